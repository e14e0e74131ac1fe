"""The gradebook's grades as files other tools read: CSV (ours and nbgrader's) and JSON.

Every export shows the final grade (``grader.record.final_grades``) and what
made it: the tests' raw points, and, for an exercise with a due date, rubric
items or an instructor's adjustment, the submission time, days late, the
late penalty, rubric points and the override's reason. Maxima are the
assignment's, the same for every learner whoever submitted what.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from grader.course.assignment import or_whole_course
from grader.learner_text import csv_text
from grader.record.final_grades import FinalGrade, final_grades

if TYPE_CHECKING:
    from grader.course.assignment import Assignment
    from grader.record.gradebook import Gradebook

UNKNOWN_TIME = "unknown"  # a due date was set, but the intake had no submission time: counted on time
LMS_LATE = "unknown (late by the LMS)"  # no time, but the LMS marked it late: the instructor must give its time


def _with_details(grades: list[FinalGrade], assignment: "Assignment") -> list[str]:
    """The exercises whose detail columns a CSV shows: those the course does more with than run tests."""
    adjusted = {grade.exercise for grade in grades if grade.adjustments}
    return [e for e in assignment.exercises
            if e in assignment.deadlines.due or assignment.rubric.get(e) or e in adjusted
            or any(e in own for own in assignment.deadlines.extensions.values())]


def submitted_text(grade: FinalGrade) -> str:
    if grade.submitted_at is not None:
        return grade.submitted_at.isoformat()
    if grade.lms_late:
        return LMS_LATE
    return UNKNOWN_TIME if grade.due is not None else ""


def _cell(points: float | None) -> object:
    return "" if points is None else points


def grade_table(book: "Gradebook", assignment: "Assignment | None" = None,
                grades: list[FinalGrade] | None = None) -> tuple[list[str], list[dict]]:
    """One row per learner: the final points per assigned exercise, the totals with nbgrader's names, then details.

    ``grades``: the assignment's final grades when the caller has them already (a report computes them once).
    """
    assignment = or_whole_course(assignment)
    grades = final_grades(book, assignment) if grades is None else grades
    by_learner: dict[str, dict[str, FinalGrade]] = {}
    for grade in grades:
        by_learner.setdefault(grade.learner, {})[grade.exercise] = grade
    detailed = _with_details(grades, assignment)
    details = [f"{e}_{part}" for e in detailed
               for part in ("raw", "submitted_at", "days_late", "late_penalty", "rubric", "override")]
    columns = ["student_id", *assignment.exercises, "raw_score", "score", "max_score", "timestamp", *details]
    rows = []
    for learner, own in sorted(by_learner.items()):
        row: dict[str, object] = {"student_id": learner}
        for exercise in assignment.exercises:
            row[exercise] = _cell(own[exercise].final) if exercise in own else ""
        row.update(raw_score=round(sum(g.raw for g in own.values()), 6),
                   score=round(sum(g.final or 0 for g in own.values()), 6), max_score=assignment.total,
                   timestamp=max(g.run.graded_at for g in own.values()))
        for exercise in detailed:
            grade = own.get(exercise)
            override = grade.override if grade else None
            row.update({f"{exercise}_raw": grade.raw if grade else "",
                        f"{exercise}_submitted_at": submitted_text(grade) if grade else "",
                        f"{exercise}_days_late": grade.lateness.days_late if grade else "",
                        f"{exercise}_late_penalty": grade.penalty if grade else "",
                        f"{exercise}_rubric": grade.rubric if grade else "",
                        f"{exercise}_override": override.reason if override else ""})
        rows.append(row)
    return columns, rows


def export_csv(book: "Gradebook", assignment: "Assignment | None" = None,
               grades: list[FinalGrade] | None = None) -> str:
    columns, rows = grade_table(book, assignment, grades)
    return csv_text([columns, *([row[column] for column in columns] for row in rows)])


def export_nbgrader_csv(book: "Gradebook", assignment: "Assignment | None" = None) -> str:
    """nbgrader's own grades.csv layout: a row per learner and assigned exercise, its due date and late penalty.

    Each row adds up as nbgrader's do (raw_score - late_submission_penalty = score): rubric points and test
    overrides are in raw_score, as nbgrader's manual grades are, and an override of the exercise, which sets
    the final points outright, is the raw score with no penalty. Reasons and days late have no column here.
    """
    assignment = or_whole_course(assignment)
    columns = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
               "raw_score", "late_submission_penalty", "score", "max_score"]
    rows = [[g.exercise, g.due.isoformat() if g.due else "", submitted_text(g) or g.run.graded_at, g.learner, "", "",
             "", *_nbgrader_points(g), g.max_points] for g in final_grades(book, assignment)]
    return csv_text([columns, *rows])


def _nbgrader_points(grade: FinalGrade) -> tuple[float, float, object]:
    """raw_score, late_submission_penalty and score of one nbgrader row."""
    if grade.override is not None:
        return grade.override.points, 0.0, grade.override.points
    return grade.earned, grade.penalty, _cell(grade.final)


def export_json(book: "Gradebook", assignment: "Assignment | None" = None) -> str:
    assignment = or_whole_course(assignment)
    return json.dumps([grade_json(g) for g in final_grades(book, assignment)], indent=2)


def grade_json(grade: FinalGrade) -> dict:
    """One learner's grade of one exercise, everything that made it included."""
    return {
        "learner": grade.learner, "exercise": grade.exercise, "score": grade.final, "raw_score": grade.raw,
        "max_score": grade.max_points, "status": grade.run.outcome.value, "graded_at": grade.run.graded_at,
        "content_hash": grade.run.content_hash, "suite_hash": grade.run.suite_hash,
        "due": grade.due.isoformat() if grade.due else None,
        "submitted_at": grade.submitted_at.isoformat() if grade.submitted_at else None,
        "time_known": grade.time_known, "late_by_the_lms": grade.lms_late, "days_late": grade.lateness.days_late,
        "grace_days_used": grade.lateness.grace_days_used, "late_penalty": grade.penalty,
        "rubric": grade.rubric,
        "adjustments": [_adjustment_json(a) for a in grade.adjustments],
        # Set for a test or rubric item this run or assignment no longer has: in force, but counting nothing.
        "stale_adjustments": [_adjustment_json(a) for a in grade.stale],
    }


def _adjustment_json(adjustment) -> dict:
    return {"kind": adjustment.kind.value, "target": adjustment.target, "points": adjustment.points,
            "reason": adjustment.reason, "by": adjustment.author, "at": adjustment.created_at}
