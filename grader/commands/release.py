"""``hml release``: the learner bundle, checked for secrets before it is written."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--keep-on-leak", is_flag=True,
              help="When the check finds a secret, keep the staged bundle (OUT.partial) for inspection.")
def release(out: Path, keep_on_leak: bool) -> None:
    """Write what learners receive to OUT: exercises (statements, starters, notebooks, public
    tests), quizzes and the engine (grader package, pyproject.toml, README.md).

    The bundle is staged, compared with everything under solutions/ (reference
    solutions, hidden tests: file contents and distinctive lines), and moved to
    OUT only when nothing secret is found; otherwise the command lists what it
    found and exits 1.
    """
    from grader.console import console
    from grader.course.model import Course
    from grader.instructor_tools.release import release as make_release

    bundle = make_release(Course(), out, keep_on_leak=keep_on_leak)
    console.print(f"Learner bundle: [bold]{bundle.root}[/bold] ({len(bundle.files)} files, "
                  f"{len(bundle.exercises)} exercises); checked: no file, line or test name of "
                  f"solutions/ in it.", highlight=False)
