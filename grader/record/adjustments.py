"""What an instructor sets by hand: overrides of an exercise's or a test's points, and rubric points.

Each is a row appended to the gradebook with who set it, when and why;
setting again or removing appends another, so the history stays. They live
beside the runs, not in them: a regrade adds a run and every adjustment
still holds.
"""
from __future__ import annotations

import getpass
import math
import os
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.learner_text import clean

if TYPE_CHECKING:
    from grader.course.assignment import Assignment
    from grader.record.gradebook import Gradebook

MAX_REASON = 500


class AdjustmentError(GraderError):
    """An adjustment that cannot be recorded as asked (an unknown learner, points out of range)."""


class AdjustmentKind(Enum):
    OVERRIDE = "override"  # the exercise's final points, whatever the tests, rubric and lateness say
    TEST = "test"          # one test's points, in place of what it earned
    RUBRIC = "rubric"      # the points of one rubric item


@dataclass(frozen=True)
class Adjustment:
    learner: str
    exercise: str
    kind: AdjustmentKind
    target: str             # the test or rubric item; "" for the exercise
    points: float | None    # None: removed
    reason: str
    author: str
    created_at: str
    id: int = 0

    @property
    def removed(self) -> bool:
        return self.points is None


def author() -> str:
    """Who is adjusting: the login of whoever runs the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def add(book: "Gradebook", adjustment: Adjustment) -> int:
    """Record ``adjustment``; the learner must have been graded in ``adjustment.exercise`` (a typo is an error)."""
    if book.latest_run(adjustment.learner, adjustment.exercise) is None:
        raise AdjustmentError(f"{adjustment.learner!r} has no grading of {adjustment.exercise} in {book.path}: "
                              f"check the learner and exercise (hml gradebook history)")
    if adjustment.points is not None and (not math.isfinite(adjustment.points) or adjustment.points < 0):
        raise AdjustmentError(f"points must be a number, 0 or more, not {adjustment.points}")
    cursor = book.db.execute(
        "INSERT INTO adjustments (learner, exercise, kind, target, points, reason, author, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (adjustment.learner, adjustment.exercise, adjustment.kind.value, adjustment.target, adjustment.points,
         clean(adjustment.reason, MAX_REASON), clean(adjustment.author, 100), adjustment.created_at))
    return cursor.lastrowid


def history(book: "Gradebook", learner: str | None = None, exercise: str | None = None) -> list[Adjustment]:
    """Every adjustment, oldest first."""
    clauses, params = [], []
    for column, value in (("learner", learner), ("exercise", exercise)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = book.db.execute(f"SELECT id, learner, exercise, kind, target, points, reason, author, created_at "
                           f"FROM adjustments {where} ORDER BY id", params).fetchall()
    return [Adjustment(row["learner"], row["exercise"], AdjustmentKind(row["kind"]), row["target"], row["points"],
                       row["reason"], row["author"], row["created_at"], row["id"]) for row in rows]


def in_force(book: "Gradebook") -> dict[tuple[str, str], list[Adjustment]]:
    """The adjustments that hold now, by (learner, exercise): the latest of each kind and target, unless removed."""
    latest: dict[tuple[str, str, AdjustmentKind, str], Adjustment] = {}
    for adjustment in history(book):
        latest[adjustment.learner, adjustment.exercise, adjustment.kind, adjustment.target] = adjustment
    held: dict[tuple[str, str], list[Adjustment]] = {}
    for adjustment in latest.values():
        if not adjustment.removed:
            held.setdefault((adjustment.learner, adjustment.exercise), []).append(adjustment)
    return held


def check_rubric_item(assignment: "Assignment", exercise: str, item: str, points: float | None) -> None:
    """``item`` is declared for ``exercise`` and ``points`` fit in it."""
    declared = assignment.rubric.get(exercise, {})
    if item not in declared:
        names = ", ".join(declared) or "none"
        raise AdjustmentError(f"{exercise} has no rubric item {item!r} in the assignment (declared: {names})")
    if points is not None and points > declared[item].points:
        raise AdjustmentError(f"{exercise}.{item}: {points} is more than the item's {declared[item].points} points")
