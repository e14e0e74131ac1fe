"""What was assigned: the exercises that count, and what each is worth.

Totals, percentages and ``max_score`` come from here, never from what anyone
submitted: an exercise's maximum is the sum of its tests' points, read from
the exercise itself (``grader.course.points``). An assignment is a TOML file, e.g.
in the class folder beside the learners' folders::

    # ROOT/assignment.toml
    exercises = ["hybrid_placement", "kfp_basic_pipeline"]

or a list of exercise ids given on the command line. Without one, every
exercise of the course counts.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

FILE_NAME = "assignment.toml"


class AssignmentError(GraderError):
    """The assignment cannot be used (a missing exercise, unreadable points, a bad file)."""


@dataclass(frozen=True)
class Assignment:
    maxima: dict[str, float]  # exercise id -> its points, in the order shown

    @property
    def exercises(self) -> list[str]:
        return list(self.maxima)

    @property
    def total(self) -> float:
        return round(sum(self.maxima.values()), 6)

    def __contains__(self, exercise: str) -> bool:
        return exercise in self.maxima


def assignment(course, exercises: list[str] | None = None) -> Assignment:
    """The named exercises of ``course`` (every exercise when none are named), with their points."""
    from grader.course.model import UnknownExercise
    from grader.course.points import exercise_points

    ids = list(dict.fromkeys(exercises)) if exercises else course.exercise_ids()
    maxima = {}
    for exercise_id in ids:
        try:
            points = exercise_points(course.exercise(exercise_id)).total
        except UnknownExercise as exc:
            raise AssignmentError(str(exc)) from None
        if points is None:
            raise AssignmentError(f"{exercise_id}: its hidden tests are not in this course folder, so its "
                                  "points are unknown")
        maxima[exercise_id] = points
    return Assignment(maxima)


def read_assignment(course, path: Path) -> Assignment:
    """The assignment a TOML file names (``exercises = [...]``)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError(f"{path}: {exc}") from None
    exercises = data.get("exercises")
    if not isinstance(exercises, list) or not exercises or not all(isinstance(e, str) for e in exercises):
        raise AssignmentError(f"{path}: expected `exercises = [\"exercise_id\", ...]`")
    return assignment(course, exercises)


def chosen_assignment(course, path: Path | None = None, exercises: tuple[str, ...] = ()) -> Assignment:
    """What the command line chose: a file, or exercise ids, or (neither) the whole course."""
    if path is not None and exercises:
        raise AssignmentError("give an assignment file or exercises, not both")
    if path is not None:
        return read_assignment(course, path)
    return assignment(course, list(exercises) or None)


def or_whole_course(chosen: Assignment | None) -> Assignment:
    """``chosen``, or (when nothing was chosen) every exercise of the course."""
    from grader.course.model import Course

    return chosen if chosen is not None else assignment(Course())
