"""``hml start``: make a learner's workspace for one exercise."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("exercise_id", metavar="ID")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to put the workspace (default: ./ID).")
@click.option("--notebook", is_flag=True, help="Start from the Jupyter notebook instead of the module file.")
@click.option("--force", is_flag=True,
              help="Replace files that differ from the course's; your own file is kept as NAME.bak.")
def start(exercise_id: str, directory: Path | None, notebook: bool, force: bool) -> None:
    """Start exercise ID: copy its statement, starter and public tests into a folder of your own.

    Nothing you wrote is ever replaced unless you add --force.
    """
    import shutil

    import nbformat
    from rich.text import Text

    from grader.commands.common import load_exercise
    from grader.console import console
    from grader.course import Course
    from grader.notebooks import module_to_notebook
    from grader.workspace import MARKER, LearnerWorkspace

    course = Course()
    exercise = load_exercise(course, exercise_id)
    target = (directory if directory is not None else Path(exercise.id))
    if target.exists() and not target.is_dir():
        raise click.ClickException(f"{target} exists and is not a folder")

    if notebook:
        if exercise.starter_notebook.is_file():
            starter = ("notebook", exercise.starter_notebook.name, exercise.starter_notebook.read_bytes())
        else:  # the course ships only the module: the notebook is made from it, cell by cell
            text = nbformat.writes(module_to_notebook(exercise.starter.read_text())) + "\n"
            starter = ("notebook", exercise.starter_notebook.name, text.encode())
    else:
        starter = ("module", exercise.file, exercise.starter.read_bytes())
    files: list[tuple[str, str, bytes]] = []  # (role, name, content)
    if exercise.statement.is_file():
        files.append(("statement", "README.md", exercise.statement.read_bytes()))
    files.append(starter)
    for extra in exercise.extra_files:
        if not extra.is_file():
            raise click.ClickException(f"the course is broken: {exercise.id} declares {extra.name}, which it lacks")
        files.append(("support", extra.name, extra.read_bytes()))
    files += [("tests", test.name, test.read_bytes()) for test in exercise.public_tests]

    existing = LearnerWorkspace.load(target)
    conflicts = [name for _, name, content in files
                 if (target / name).is_file() and (target / name).read_bytes() != content]
    conflicts += [name for _, name, _ in files if (target / name).exists() and not (target / name).is_file()]
    if existing is not None and existing.exercise != exercise.id:
        conflicts.append(f"{MARKER} (a workspace of {existing.exercise})")
    if conflicts and not force:
        mine = [c for c in conflicts if c == starter[1]]
        lines = [f"{target} already holds {', '.join(conflicts)}, which differ from the course's; nothing was "
                 "changed."]
        if mine:
            lines.append(f"{starter[1]} holds your work: continue with `cd {target} && hml check`.")
        lines.append("To start over, add --force (your files are kept as NAME.bak).")
        raise click.ClickException(" ".join(lines))

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for role, name, content in files:
        path = target / name
        if path.is_file() and path.read_bytes() == content:
            written.append((role, name, "unchanged"))
            continue
        note = "new"
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            if path.is_dir():
                raise click.ClickException(f"{path} is a folder; move it away first")
            shutil.copy2(path, backup)
            note = f"replaced (yours is kept as {backup.name})"
        path.write_bytes(content)
        written.append((role, name, note))

    workspace = LearnerWorkspace(target.resolve(), exercise.id, exercise.file, notebook)
    if existing is not None and existing.exercise == exercise.id:
        workspace.started = existing.started or workspace.started
        workspace.last_check = existing.last_check
    workspace.save()

    roles = {"statement": "the statement: read it first", "module": "your code: fill in the TODOs",
             "notebook": "your notebook: fill in the TODOs (open it with Jupyter)",
             "tests": "the public tests `hml check` runs", "support": "a file the statement uses"}
    title = Text()
    title.append(f"Started {exercise.id}", style="bold green")
    title.append(f": {exercise.title} ({exercise.module})")
    console.print(title)
    console.print(Text(f"in {target}/"))
    width = max(len(name) for _, name, _ in written)
    for role, name, note in written:
        line = Text("  " + name.ljust(width + 2))
        line.append(roles[role])
        if note != "new":
            line.append(f"  [{note}]", style="dim")
        console.print(line)
    console.print()
    console.print(Text("Next:", style="bold"))
    console.print(Text(f"  cd {target}"))
    if notebook:
        console.print(Text(f"  jupyter lab {starter[1]}   (or any notebook editor; save before checking)"))
    console.print(Text("  hml check"))
