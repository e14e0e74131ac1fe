"""``hml check``: run an exercise's public tests on the learner's module or notebook, with feedback."""
from __future__ import annotations

from pathlib import Path

import click

from grader.commands.common import sandbox_options

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


@click.command()
@click.argument("exercise_id", required=False, metavar="[ID]")
@click.argument("path", required=False, type=click.Path(path_type=Path), metavar="[PATH]")
@click.option("--notebook", is_flag=True, help="Check the workspace's notebook (.ipynb) rather than its module file.")
@sandbox_options
@click.option("--results", "results_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON (Gradescope's results.json format) to this file.")
def check(exercise_id: str | None, path: Path | None, notebook: bool, sandbox: str, unsandboxed: bool,
          results_file: Path | None) -> None:
    """Run the public tests of exercise ID on PATH (your module file or notebook).

    Inside a folder made by `hml start`, both are optional: `hml check` checks
    that exercise's module there (or its notebook, if that is what you
    started with). The exercise is also found from PATH's file name when only
    one exercise uses it.

    Exit status 0 when every public test passes, 1 otherwise.
    """
    code = run_check(exercise_id, path, notebook=notebook, unsandboxed=unsandboxed or sandbox == "none",
                     results_file=results_file, sandbox=sandbox)
    raise SystemExit(code)


def run_check(exercise_id: str | None, path: Path | None, *, notebook: bool = False, unsandboxed: bool = False,
              results_file: Path | None = None, sandbox: str = "auto") -> int:
    import tempfile

    from rich.text import Text

    from grader.console import console, warn
    from grader.course import Course
    from grader.explain import preflight, read_source
    from grader.feedback import render_problems, render_result, render_summary
    from grader.notebooks import NotebookError
    from grader.results import GradeResult
    from grader.run import grade_one
    from grader.sandbox import Sandbox, SandboxUnavailable, choose
    from grader.workspace import LastCheck, now_iso

    course = Course()
    exercise, path, workspace = resolve(course, exercise_id, path, notebook)

    # It is the learner's own code: without a sandbox the check still runs, with a warning.
    try:
        sandboxed = choose("none" if unsandboxed else sandbox)
    except SandboxUnavailable as exc:
        warn(f"{exc}: your code runs unsandboxed")
        sandboxed = Sandbox.NONE
    if unsandboxed:
        warn("running your code without the sandbox (--sandbox none)")

    shown = _display(path)
    header = Text()
    header.append(f"{exercise.id}", style="bold")
    header.append(f": {exercise.title}")
    console.print(header)
    console.print(Text(f"Checking {shown} with the public tests"
                       f"{'' if sandboxed.confines else ' (unsandboxed)'}…", style="dim"))
    console.print()

    source = None
    problems = []
    if path.suffix in (".py", ".ipynb"):
        try:
            source = read_source(path)
        except NotebookError as exc:
            console.print(Text(f"error: {path.name} cannot be read as a notebook: {exc}", style="bold red"))
            console.print("    Save it again from Jupyter, or check the module file instead.")
            _record(workspace, path, LastCheck(0, _public_points(exercise), 0, 0, now_iso(),
                                               _relative(path, workspace), "unreadable notebook"))
            return 1
        problems = preflight(source, exercise.functions)
    else:
        from grader.explain import Source
        source = Source(Path(exercise.file), "")
    render_problems(console, problems)

    if any(p.fatal for p in problems):
        result = GradeResult(path.stem, exercise.id, refused=problems[0].title, sandboxed=sandboxed.confines)
        console.print(Text(f"Public tests: 0/{_public_points(exercise):g} points: no test could run.", style="bold"))
        if results_file:
            result.write(results_file)
        _record(workspace, path, LastCheck(0, _public_points(exercise), 0, 0, now_iso(),
                                           _relative(path, workspace), "syntax error"))
        return 1

    with tempfile.TemporaryDirectory(prefix="hml-check-") as scratch:
        with console.status("Running the public tests…"):
            result = grade_one(exercise, path, path.stem, Path(scratch) / "results.json", course=course,
                               sandboxed=sandboxed, cache_dir=cache_dir(course, exercise),
                               include_hidden=False)
    render_result(console, result, exercise, source)
    render_summary(console, result)
    if results_file:
        result.write(results_file)
    passed = sum(t.passed for t in result.tests)
    failed = len(result.tests) - passed
    note = "refused" if result.refused else ("the check failed" if result.error else "")
    _record(workspace, path, LastCheck(result.score, result.max_score or _public_points(exercise), passed, failed,
                                       now_iso(), _relative(path, workspace), note))
    ok = bool(result.tests) and failed == 0 and not result.error and not result.refused
    return 0 if ok else 1


def resolve(course, exercise_id: str | None, path: Path | None, notebook: bool):
    """Which exercise, which file, and the learner's workspace (if the file is in one)."""
    from grader.commands.common import load_exercise
    from grader.console import warn
    from grader.workspace import LearnerWorkspace

    known = course.exercise_ids()
    if exercise_id and path is None and exercise_id not in known and _looks_like_path(exercise_id):
        exercise_id, path = None, Path(exercise_id)
    if path is not None and not path.exists():
        raise click.ClickException(f"{path} does not exist")

    workspace = LearnerWorkspace.find(path if path is not None else Path.cwd())
    if exercise_id:
        exercise = load_exercise(course, exercise_id)
        if workspace is not None and workspace.exercise != exercise.id:
            if path is None:
                warn(f"this folder is a workspace of {workspace.exercise}; checking it against {exercise.id}, "
                     "as you asked")
            workspace = None  # its record is for another exercise
    elif workspace is not None and workspace.exercise in known:
        exercise = course.exercise(workspace.exercise)
    else:
        exercise = _infer_exercise(course, path)

    if path is None or path.is_dir():
        base = path if path is not None else (workspace.directory if workspace is not None else Path.cwd())
        path = _pick_file(exercise, base, notebook, workspace)
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise click.ClickException(f"{path.name}: check a .py module, an .ipynb notebook or a .zip "
                                   f"holding {exercise.file}")
    if workspace is not None and not path.resolve().is_relative_to(workspace.directory):
        workspace = None
    return exercise, path, workspace


def _pick_file(exercise, base: Path, notebook: bool, workspace) -> Path:
    from grader.console import warn

    module = base / exercise.file
    book = base / f"{exercise.module_name}.ipynb"
    if notebook:
        if not book.is_file():
            raise click.ClickException(f"there is no {book.name} in {_display(base)}")
        return book
    prefer_notebook = workspace is not None and workspace.notebook
    first, second = (book, module) if prefer_notebook else (module, book)
    if first.is_file():
        if second.is_file() and second.stat().st_mtime > first.stat().st_mtime + 1:
            warn(f"{second.name} is newer than {first.name}; checking {first.name} "
                 f"(to check the other: `hml check {exercise.id} {second.name}`)")
        return first
    if second.is_file():
        return second
    raise click.ClickException(
        f"there is no {module.name} or {book.name} in {_display(base)}. Start the exercise with "
        f"`hml start {exercise.id}` (add --notebook for a notebook), or name the file: "
        f"`hml check {exercise.id} PATH`.")


def _infer_exercise(course, path: Path | None):
    """The exercise whose module (or notebook) file name matches; an error when none or several do."""
    exercises = course.exercises()
    if path is not None and path.is_file():
        names = {path.name}
    else:
        folder = path if path is not None else Path.cwd()
        names = {p.name for p in folder.iterdir() if p.suffix in (".py", ".ipynb")} if folder.is_dir() else set()
    matches = [e for e in exercises if e.file in names or f"{e.module_name}.ipynb" in names]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise click.ClickException(
            "which exercise? Name it: `hml check ID [PATH]` (see `hml list`), or run `hml check` in a folder "
            "made by `hml start ID`.")
    ids = ", ".join(e.id for e in matches)
    example = path.name if path is not None and path.is_file() else matches[0].file
    raise click.ClickException(
        f"several exercises use that file name ({ids}): name the one you mean, e.g. "
        f"`hml check {matches[0].id} {example}`.")


def cache_dir(course, exercise) -> Path:
    """A reference cache kept between checks (the grader's batch cache), reset when the course changes.

    ``HML_CACHE_DIR`` overrides where it lives.
    """
    import hashlib
    import os
    import shutil

    import platformdirs

    root = Path(os.environ.get("HML_CACHE_DIR") or platformdirs.user_cache_dir("hml-grader")) / "check"
    digest = hashlib.sha256(exercise.id.encode())
    package = Path(__file__).resolve().parents[1]
    files = [(f.relative_to(package).as_posix(), f) for f in sorted(package.rglob("*.py"))
             if "__pycache__" not in f.parts]
    files += [(f"fixtures/{f.name}", f) for f in sorted((package / "fixtures").glob("*")) if f.is_file()]
    files += [(f"tests/{f.name}", f) for f in exercise.public_tests]
    for name, file in files:
        digest.update(name.encode())
        digest.update(file.read_bytes())
    folder = root / exercise.id
    target = folder / digest.hexdigest()[:16]
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale != target:
                shutil.rmtree(stale, ignore_errors=True)
    return target


def _public_points(exercise) -> float:
    from grader.points import files_points

    try:
        return files_points(exercise.public_tests)
    except Exception:  # noqa: BLE001 - only a display value
        return 0.0


def _record(workspace, path: Path, check) -> None:
    if workspace is None:
        return
    try:
        workspace.record(check)
    except OSError:
        pass  # a read-only folder: the record is a convenience


def _relative(path: Path, workspace) -> str:
    if workspace is not None:
        try:
            return path.resolve().relative_to(workspace.directory).as_posix()
        except ValueError:
            pass
    return str(path)


def _display(path: Path) -> str:
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
        return str(shown) if str(shown) != "." else "this folder"
    except ValueError:
        return str(path)


def _looks_like_path(text: str) -> bool:
    return Path(text).exists() or text.endswith(SUBMISSION_SUFFIXES) or "/" in text or "\\" in text
