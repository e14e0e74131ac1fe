"""``hml gradescope``: build an autograder zip for one exercise, and grade inside it."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli import GraderGroup
from grader.commands.common import sandbox_options
from grader.errors import ExitCode

HIDDEN_AS = ("hidden", "after_due_date", "after_published")  # grader.platforms.gradescope.HIDDEN_AS


@click.group(cls=GraderGroup)
def gradescope() -> None:
    """Gradescope autograders: setup.sh, run_autograder and results.json."""


@gradescope.command()
@click.argument("out_zip", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--exercise", "-e", "exercise_id", required=True, help="The exercise this autograder grades.")
@click.option("--hidden-as", type=click.Choice(HIDDEN_AS), default="hidden", show_default=True,
              help="How Gradescope shows hidden tests (pass/fail only): hidden never shows them and shows the "
                   "total at once; after_due_date / after_published show them then, and hide the total until then.")
def build(out_zip: Path, exercise_id: str, hidden_as: str) -> None:
    """Write the autograder zip OUT_ZIP for one exercise (upload it in the assignment's Configure Autograder)."""
    from grader.commands.common import load_exercise
    from grader.course.model import Course
    from grader.platforms.gradescope import build as build_zip

    course = Course()
    load_exercise(course, exercise_id)
    written = build_zip(course, out_zip, exercise_id, hidden_as)
    click.echo(f"wrote {written} ({exercise_id}, hidden tests: {hidden_as})")


@gradescope.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/autograder"),
              show_default=True, help="Gradescope's folder: submission/ in, results/results.json out.")
@sandbox_options
def run(root: Path, sandbox: str, unsandboxed: bool) -> None:
    """Grade ROOT/submission/ and write ROOT/results/results.json (what run_autograder calls).

    Exit status 1, and no results.json, when the grader itself failed: Gradescope
    then records no score rather than 0.
    """
    from grader.platforms.gradescope import run as grade

    if grade(root, sandbox="none" if unsandboxed else sandbox) is None:
        sys.exit(ExitCode.FAILED)
