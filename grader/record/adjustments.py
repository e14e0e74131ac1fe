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
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.intake.csv_files import CsvFileError, read_rows
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _insert(book: "Gradebook", adjustments: list[Adjustment]) -> None:
    """All of ``adjustments`` or none of them."""
    book.db.execute("BEGIN IMMEDIATE")
    try:
        book.db.executemany(
            "INSERT INTO adjustments (learner, exercise, kind, target, points, reason, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(clean(a.learner, 200), a.exercise, a.kind.value, a.target, a.points, clean(a.reason, MAX_REASON),
              clean(a.author, 100), a.created_at or _now()) for a in adjustments])
        book.db.execute("COMMIT")
    except BaseException:
        book.db.execute("ROLLBACK")
        raise


def _graded(book: "Gradebook", learner: str, exercise: str, where: str = ""):
    """The learner's latest run of ``exercise``: an adjustment for someone never graded is a typo."""
    run = book.latest_run(learner, exercise)
    if run is None:
        raise AdjustmentError(f"{where}{learner!r} has no grading of {exercise} in {book.path}: check the learner "
                              f"and the exercise (hml gradebook history)")
    return run


def _points(value: float | None, most: float, what: str, where: str = "") -> float:
    if value is None:
        raise AdjustmentError(f"{where}give the points (--points)")
    if not math.isfinite(value) or not 0 <= value <= most:
        raise AdjustmentError(f"{where}points: {value:g} is not between 0 and {what}'s {most:g}")
    return float(value)


def set_override(book: "Gradebook", assignment: "Assignment", learner: str, exercise: str, *, points: float | None,
                 reason: str | None, test: str | None = None, remove: bool = False, who: str | None = None) -> str:
    """Set or remove an override of ``exercise``'s final points (or of one ``test``'s); say what changed."""
    if exercise not in assignment:
        raise AdjustmentError(f"{exercise} is not one of the assignment's exercises")
    run = _graded(book, learner, exercise)
    kind, target = (AdjustmentKind.TEST, _test(run, test).nodeid) if test else (AdjustmentKind.OVERRIDE, "")
    held = [a for a in in_force(book).get((run.learner, exercise), []) if a.kind is kind and a.target == target]
    what = f"{run.learner} / {exercise}" + (f" / {test}" if test else "")
    if remove:
        if not held:
            raise AdjustmentError(f"{what} has no override to remove")
        _insert(book, [Adjustment(run.learner, exercise, kind, target, None, reason or "removed", who or author(), "")])
        return f"{what}: override removed"
    if not reason or not reason.strip():
        raise AdjustmentError("give the reason (--reason): the learner's page and every export show it")
    if test:
        chosen = _test(run, test)
        target = chosen.nodeid
        value = _points(points, chosen.max_score, "the test")
    else:
        value = _points(points, assignment.maxima[exercise], "the exercise")
    _insert(book, [Adjustment(run.learner, exercise, kind, target, value, reason.strip(), who or author(), "")])
    return f"{what}: points set to {value:g} ({reason.strip()})"


def _test(run, test: str):
    """The one test of ``run`` that ``test`` names: its node id, or a name no other test has."""
    found = [t for t in run.tests if t.nodeid == test] or [t for t in run.tests if t.name == test]
    if not found:
        raise AdjustmentError(f"{run.exercise} has no test {test!r} in {run.learner}'s latest run "
                              f"(hml gradebook history LEARNER --tests lists them)")
    if len(found) > 1:
        raise AdjustmentError(f"{len(found)} tests of {run.exercise} are named {test!r}: name one by its node id "
                              f"({', '.join(t.nodeid for t in found)})")
    return found[0]


@dataclass(frozen=True)
class RubricRow:
    learner: str
    exercise: str
    item: str
    points: float | None
    reason: str
    where: str = ""  # "FILE, line N: " for a row of a CSV


RUBRIC_COLUMNS = ("learner", "exercise", "item", "points")


def rubric_rows(from_csv: Path | None, learner: str | None, exercise: str | None, item: str | None,
                points: float | None, reason: str = "") -> list[RubricRow]:
    """The rubric points asked for: one on the command line, or every row of a CSV the instructor edited."""
    if from_csv is None:
        if not (learner and exercise and item):
            raise AdjustmentError("name LEARNER EXERCISE ITEM and --points, or give --from-csv FILE")
        return [RubricRow(learner, exercise, item, points, reason)]
    if learner or exercise or item:
        raise AdjustmentError("give LEARNER EXERCISE ITEM or --from-csv FILE, not both")
    try:
        marks = read_rows(from_csv, RUBRIC_COLUMNS, ("reason",))
    except CsvFileError as exc:
        raise AdjustmentError(str(exc)) from None
    rows = []
    for line, values in marks:
        where = f"{from_csv}, line {line}, "
        for column in RUBRIC_COLUMNS[:3]:
            if not values[column]:
                raise AdjustmentError(f"{where}{column}: empty")
        if not values["points"]:
            continue  # an item the instructor has not marked yet
        try:
            value = float(values["points"])
        except ValueError:
            raise AdjustmentError(f"{where}points: {values['points']!r} is not a number") from None
        rows.append(RubricRow(values["learner"], values["exercise"], values["item"], value, values["reason"], where))
    return rows


def fill_rubric(book: "Gradebook", assignment: "Assignment", rows: list[RubricRow], who: str | None = None) -> str:
    """Record every row's rubric points, after checking them all: a bad row records none."""
    adding = []
    for row in rows:
        if row.exercise not in assignment:
            raise AdjustmentError(f"{row.where}exercise: {row.exercise} is not one of the assignment's exercises")
        run = _graded(book, row.learner, row.exercise, f"{row.where}learner: ")
        check_rubric_item(assignment, row.exercise, row.item, None, row.where)
        value = _points(row.points, assignment.rubric[row.exercise][row.item].points, f"item {row.item}", row.where)
        adding.append(Adjustment(run.learner, row.exercise, AdjustmentKind.RUBRIC, row.item, value,
                                 row.reason or row.item, who or author(), ""))
    _insert(book, adding)
    return f"rubric points recorded: {len(adding)} item(s) for {len({a.learner for a in adding})} learner(s)"


def history(book: "Gradebook", learner: str | None = None, exercise: str | None = None) -> list[Adjustment]:
    """Every adjustment, oldest first."""
    clauses, params = [], []
    for column, value in (("learner", clean(learner, 200) if learner is not None else None), ("exercise", exercise)):
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


def check_rubric_item(assignment: "Assignment", exercise: str, item: str, points: float | None,
                      where: str = "") -> None:
    """``item`` is declared for ``exercise`` and ``points`` fit in it."""
    declared = assignment.rubric.get(exercise, {})
    if item not in declared:
        names = ", ".join(declared) or "none; declare them in the assignment file, [rubric.EXERCISE]"
        raise AdjustmentError(f"{where}item: {exercise} has no rubric item {item!r} (declared: {names})")
    if points is not None:
        _points(points, declared[item].points, f"item {item}", where)
