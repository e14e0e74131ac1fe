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
    from grader.commands.common import load_exercise
    from grader.course.model import Course
    from grader.learner_tools.start import start_exercise

    exercise = load_exercise(Course(), exercise_id, param_hint="ID")
    target = directory if directory is not None else Path(exercise.id)
    started = start_exercise(exercise, target, notebook=notebook, force=force)
    _show(exercise, target, started, notebook)


def _show(exercise, target: Path, started, notebook: bool) -> None:
    from rich.text import Text

    from grader.console import console

    title = Text()
    title.append(f"Started {exercise.id}", style="bold green")
    title.append(f": {exercise.title} ({exercise.course_module})")
    console.print(title)
    console.print(Text(f"in {target}/"))
    width = max(len(w.file.name) for w in started.written)
    for written in started.written:
        line = Text("  " + written.file.name.ljust(width + 2))
        line.append(written.file.role.value)
        if written.note != "new":
            line.append(f"  [{written.note}]", style="dim")
        console.print(line)
    console.print()
    console.print(Text("Next:", style="bold"))
    console.print(Text(f"  cd {target}"))
    if notebook:
        console.print(Text(f"  jupyter lab {started.starter.name}   (or any notebook editor; save before checking)"))
    console.print(Text("  hml check"))
