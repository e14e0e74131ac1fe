"""Pieces several commands share: loading an exercise, the sandbox decision, result tables."""
from __future__ import annotations

import click
from rich.table import Table

from grader.course import Course, Exercise, UnknownExercise
from grader.results import GradeResult


def load_exercise(course: Course, exercise_id: str) -> Exercise:
    try:
        return course.exercise(exercise_id)
    except UnknownExercise as exc:
        raise click.BadParameter(str(exc), param_hint="--exercise") from None


def require_sandbox(unsandboxed: bool) -> bool:
    """Instructor grading refuses to run learner code unconfined unless told to."""
    from grader.console import warn
    from grader.sandbox import can_sandbox

    if unsandboxed:
        warn("running learner code WITHOUT the sandbox (--unsandboxed)")
        return False
    if not can_sandbox():
        raise click.ClickException(
            "bubblewrap (bwrap) is not available, so learner code cannot be confined. "
            "Install it (Debian/Ubuntu: apt-get install bubblewrap) or pass --unsandboxed for code you trust.")
    return True


def summary_table(results: list[GradeResult]) -> Table:
    table = Table(title="Grading summary")
    for column in ("submission", "exercise", "score", "tests passed", "time", "note"):
        table.add_column(column, justify="right" if column in ("score", "time") else "left")
    for result in results:
        passed = sum(t.passed for t in result.tests)
        note = ("refused: " + result.refused) if result.refused else (result.error or "").splitlines()[0:1]
        note = note if isinstance(note, str) else (note[0] if note else "")
        table.add_row(result.submission, result.exercise, f"{result.score:g}/{result.max_score:g}",
                      f"{passed}/{len(result.tests)}", f"{result.execution_time:.1f}s", note[:80])
    return table
