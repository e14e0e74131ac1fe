"""``hml coursera``: build a Coursera custom grader image's context, and grade inside it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader.cli import GraderGroup
from grader.commands.common import sandbox_options
from grader.errors import ExitCode


@click.group(cls=GraderGroup)
def coursera() -> None:
    """Coursera custom graders: one image per course; partId selects the exercise."""


@coursera.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exercise", "-e", "exercises", multiple=True,
              help="An exercise the image grades (repeat for more) [default: every exercise].")
def build(out_dir: Path, exercises: tuple[str, ...]) -> None:
    """Write the image's build context to OUT_DIR: Dockerfile, entrypoint.sh, parts.json, pinned constraints.

    parts.json maps Coursera part ids to exercise ids (each part id is the
    exercise id until you edit it); rebuilding keeps your edits.
    """
    from grader.course.model import Course, UnknownExercise
    from grader.platforms.coursera import build as build_context

    try:
        written = build_context(Course(), out_dir, exercises)
    except UnknownExercise as exc:
        exc.param_hint = "--exercise"
        raise
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"build it with: docker build -t hml-grader {out_dir}")


@coursera.command()
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path), default=Path("/shared"),
              show_default=True, help="The folder Coursera mounts: submission/ in, feedback.json out.")
@click.option("--part-id", envvar="partId", help="The part being graded [default: $partId].")
@click.option("--parts", type=click.Path(dir_okay=False, path_type=Path), envvar="HML_COURSERA_PARTS",
              help="The part-id mapping (parts.json) [default: each part id is an exercise id].")
@sandbox_options
def run(shared: Path, part_id: str | None, parts: Path | None, sandbox: str, unsandboxed: bool) -> None:
    """Grade SHARED/submission/ and write SHARED/feedback.json and SHARED/htmlFeedback.html.

    Standard output carries the feedback JSON only. Exit status 1 when the
    grader itself failed (no score is given then, rather than 0).
    """
    from grader.platforms.coursera import run as grade

    feedback = grade(shared, part_id or None, sandbox="none" if unsandboxed else sandbox, parts=parts)
    sys.stdout.write(json.dumps(feedback.data) + "\n")
    if not feedback.graded:
        sys.exit(ExitCode.FAILED)
