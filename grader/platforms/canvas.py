"""The gradebook as a CSV Canvas's gradebook import accepts.

Canvas's layout: ``Student, ID, SIS User ID, SIS Login ID, Section``, then a
column per assignment (here: per exercise, named by its id), a ``Points
Possible`` row under the header (Canvas reads it for the assignments the
import creates), then a row per learner. Learners are identified by their
submission folder names, given as both SIS User ID and SIS Login ID (Canvas
matches a row on either); the Canvas ID column is left empty, as is the
section. A learner's final grade of each exercise is their grade
(``grader.record.final_grades``: late policy, rubric and overrides
included); a run the grader failed on, or an exercise never submitted, is
left blank (no grade, rather than 0).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from grader.learner_text import csv_text
from grader.record.final_grades import final_grades
from grader.record.gradebook import Gradebook

if TYPE_CHECKING:  # pragma: no cover
    from grader.course.assignment import Assignment

IDENTITY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


def export(book: Gradebook, assignment: "Assignment | None" = None) -> str:
    """The CSV: a column per assigned exercise, each possible points from the exercise (grader.course.assignment)."""
    from grader.course.assignment import or_whole_course

    assignment = or_whole_course(assignment)
    exercises = assignment.exercises
    maxima = assignment.maxima
    grades: dict[str, dict[str, float | str]] = {}
    for grade in final_grades(book, assignment):
        grades.setdefault(grade.learner, {})[grade.exercise] = "" if grade.final is None else grade.final
    rows: list[list[object]] = [IDENTITY_COLUMNS + exercises,
                                [POINTS_POSSIBLE, "", "", "", ""] + [maxima.get(e, "") for e in exercises]]
    # Folder names as the learners typed them: csv_text keeps one that starts like a formula from running.
    rows += [[learner, "", learner, learner, ""] + [grades[learner].get(e, "") for e in exercises]
             for learner in sorted(grades)]
    return csv_text(rows)
