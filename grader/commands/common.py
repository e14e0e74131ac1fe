"""Pieces several commands share: loading an exercise, the sandbox decision, result tables."""
from __future__ import annotations

import click
from rich.table import Table

from grader.course.model import Course, Exercise
from grader.learner_text import for_console
from grader.record.results import GradeResult


def load_exercise(course: Course, exercise_id: str, param_hint: str = "--exercise") -> Exercise:
    """The exercise, or an unknown-exercise error that names the option it came from."""
    from grader.course.model import UnknownExercise

    try:
        return course.exercise(exercise_id)
    except UnknownExercise as exc:
        exc.param_hint = param_hint
        raise


SANDBOX_CHOICES = ("auto", "bwrap", "landlock", "none")  # grader.sandbox.launch.CHOICES, without importing it here


def sandbox_options(command):
    """``--sandbox`` (and ``HML_SANDBOX``) and its old synonym ``--unsandboxed``."""
    command = click.option("--unsandboxed", is_flag=True, help="The same as --sandbox none.")(command)
    return click.option(
        "--sandbox", type=click.Choice(SANDBOX_CHOICES), envvar="HML_SANDBOX", default="auto", show_default=True,
        help="Where learner code runs: bubblewrap, Landlock (where namespaces are denied, as in containers), "
             "or none (only for code you trust); auto picks the strongest that works here.")(command)


def require_sandbox(sandbox: str, unsandboxed: bool = False):
    """The sandbox instructor grading uses; it refuses to run learner code unconfined unless told to."""
    from grader.console import warn
    from grader.sandbox.launch import Sandbox, SandboxUnavailable, choose

    try:
        chosen = choose("none" if unsandboxed else sandbox)
    except SandboxUnavailable as exc:
        raise SandboxUnavailable(f"{exc}. Learner code cannot be confined here: install bubblewrap "
                                 "(apt-get install bubblewrap), or pass --sandbox none for code you trust.") from None
    if chosen is Sandbox.NONE:
        warn("running learner code WITHOUT a sandbox (--sandbox none)")
    return chosen


def summary_table(results: list[GradeResult]) -> Table:
    table = Table(title="Grading summary")
    for column in ("submission", "exercise", "score", "tests passed", "time", "note"):
        table.add_column(column, justify="right" if column in ("score", "time") else "left")
    for result in results:
        passed = sum(t.passed for t in result.tests)
        note = ("refused: " + result.refused) if result.refused else (result.grader_failure or "").split("\n")[0]
        # The submission's name (its file name) and a refusal's reason are learner-made: through for_console.
        table.add_row(for_console(result.submission), result.exercise, f"{result.score:g}/{result.max_score:g}",
                      f"{passed}/{len(result.tests)}", f"{result.execution_time:.1f}s", for_console(note, 80))
    return table
