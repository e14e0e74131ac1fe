"""The gradebook as a CSV Canvas's gradebook import accepts.

Canvas's layout: ``Student, ID, SIS User ID, SIS Login ID, Section``, then a
column per assignment (here: per exercise, named by its id), a ``Points
Possible`` row under the header (Canvas reads it for the assignments the
import creates), then a row per learner. Learners are identified by their
submission folder names, given as both SIS User ID and SIS Login ID (Canvas
matches a row on either); the Canvas ID column is left empty, as is the
section. A learner's latest run of each exercise is their grade; a run the
grader failed on, or an exercise never submitted, is left blank (no grade,
rather than 0).
"""
from __future__ import annotations

import csv
import io

from typing import TYPE_CHECKING

from grader.record.gradebook import Gradebook
from grader.record.kinds import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from grader.course.assignment import Assignment

IDENTITY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export(book: Gradebook, assignment: "Assignment | None" = None) -> str:
    """The CSV: a column per assigned exercise, each possible points from the exercise (grader.course.assignment)."""
    from grader.course.assignment import or_whole_course

    assignment = or_whole_course(assignment)
    runs = book.assigned(assignment, tests=False)
    exercises = assignment.exercises
    maxima = assignment.maxima
    grades: dict[str, dict[str, str]] = {}
    for run in runs:
        scored = run.outcome is not Outcome.GRADER_ERROR
        grades.setdefault(run.learner, {})[run.exercise] = _number(run.score) if scored else ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(IDENTITY_COLUMNS + exercises)
    writer.writerow([POINTS_POSSIBLE, "", "", "", ""] + [_number(maxima[e]) if e in maxima else "" for e in exercises])
    for learner in sorted(grades):
        name = _cell(learner)
        writer.writerow([name, "", name, name, ""] + [grades[learner].get(e, "") for e in exercises])
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"


def _cell(text: str) -> str:
    """A learner's folder name, kept from being read as a formula by a spreadsheet opening the file."""
    return "'" + text if text.startswith(_FORMULA_START) else text
