"""What was assigned: the exercises that count, and what each is worth.

Totals, percentages and ``max_score`` come from here, never from what anyone
submitted: an exercise's maximum is the sum of its tests' points, read from
the exercise itself (``grader.course.points``). An assignment is a TOML file, e.g.
in the class folder beside the learners' folders::

    # ROOT/assignment.toml
    exercises = ["hybrid_placement", "kfp_basic_pipeline"]

or a list of exercise ids given on the command line. Without one, every
exercise of the course counts. The file may also set due dates, a late
policy and extensions (``grader.course.deadlines``) and rubric items: points
an instructor gives by hand for what tests cannot judge, added to the
exercise's maximum::

    [rubric.hybrid_placement]
    reasons_explain = { points = 2, text = "the reasons explain the choice" }
    clear_names = 1
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.deadlines import DeadlineError, Deadlines, read_deadlines
from grader.errors import GraderError

FILE_NAME = "assignment.toml"


class AssignmentError(GraderError):
    """The assignment cannot be used (a missing exercise, unreadable points, a bad file)."""


@dataclass(frozen=True)
class RubricItem:
    name: str
    points: float  # the most it can give
    text: str = ""


@dataclass(frozen=True)
class Assignment:
    maxima: dict[str, float]  # exercise id -> its points (tests and rubric), in the order shown
    deadlines: Deadlines = field(default_factory=Deadlines)
    rubric: dict[str, dict[str, RubricItem]] = field(default_factory=dict)  # exercise -> item name -> item
    source: Path | None = None  # the file it was read from, for errors that name it

    @property
    def exercises(self) -> list[str]:
        return list(self.maxima)

    @property
    def total(self) -> float:
        return round(sum(self.maxima.values()), 6)

    def __contains__(self, exercise: str) -> bool:
        return exercise in self.maxima

    def check_learners(self, known: set[str]) -> None:
        """An extension for a learner the gradebook does not know is a typo the instructor must hear about."""
        for learner in self.deadlines.extensions:
            if learner not in known:
                line = line_of(self.source.read_text(), f"extensions.{learner}") if self.source else None
                raise AssignmentError(f"{self.source or 'the assignment'}{f', line {line}' if line else ''}: "
                                      f"extensions.{learner}: the gradebook knows no learner {learner!r} (a typo? "
                                      f"learners are named as their folders)")


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
    """The assignment a TOML file names (``exercises = [...]``), with its deadlines and rubric."""
    try:
        text = Path(path).read_text()
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"exercises", "due", "late", "extensions", "rubric"})
    try:
        if unknown:
            raise DeadlineError(f"{unknown[0]}: not an assignment field (exercises, due, late, extensions, rubric)",
                                unknown[0])
        exercises = _exercises(data.get("exercises"), course)
        deadlines = read_deadlines(data, exercises)
        rubric = _rubric(data.get("rubric", {}), exercises)
        tests = _tests(course, exercises)
    except DeadlineError as exc:
        line = line_of(text, exc.key)
        raise AssignmentError(f"{path}{f', line {line}' if line else ''}: {exc}") from None
    maxima = {exercise: round(points + sum(item.points for item in rubric.get(exercise, {}).values()), 6)
              for exercise, points in tests.maxima.items()}
    return Assignment(maxima, deadlines, rubric, Path(path))


def _exercises(value: object, course) -> list[str]:
    """The ``exercises`` list, each id one the course has."""
    if value is None:
        raise DeadlineError("exercises: missing; name the exercises that count (exercises = [\"exercise_id\", ...])",
                            "exercises")
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        raise DeadlineError(f"exercises: expected a list of exercise ids (exercises = [\"exercise_id\", ...]), "
                            f"not {value!r:.60}", "exercises")
    known = course.exercise_ids()
    for exercise in value:
        if exercise not in known:
            raise DeadlineError(f"exercises: there is no exercise {exercise!r} (known: {', '.join(known) or 'none'})",
                                "exercises")
    return value


def _tests(course, exercises: list[str]) -> Assignment:
    """The exercises' points from their tests: an exercise without its hidden tests is the ``exercises`` field's."""
    try:
        return assignment(course, exercises)
    except AssignmentError as exc:
        raise DeadlineError(f"exercises: {exc}", "exercises") from None


def _rubric(table: object, exercises: list[str]) -> dict[str, dict[str, RubricItem]]:
    if not isinstance(table, dict):
        raise DeadlineError("rubric: expected tables [rubric.EXERCISE]", "rubric")
    rubric: dict[str, dict[str, RubricItem]] = {}
    for exercise, items in table.items():
        if exercise not in exercises:
            raise DeadlineError(f"rubric.{exercise}: {exercise!r} is not one of the assignment's exercises",
                                f"rubric.{exercise}")
        if not isinstance(items, dict):
            raise DeadlineError(f"rubric.{exercise}: expected a table of item = points", f"rubric.{exercise}")
        for name, spec in items.items():
            key = f"rubric.{exercise}.{name}"
            points, text = (spec.get("points"), spec.get("text", "")) if isinstance(spec, dict) else (spec, "")
            if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 < points < math.inf:
                raise DeadlineError(f"{key}: the item's points must be a number above 0, not {points!r}", key)
            if not isinstance(text, str):
                raise DeadlineError(f"{key}: the item's text must be a string", key)
            rubric.setdefault(exercise, {})[name] = RubricItem(name, float(points), text)
    return rubric


def line_of(text: str, key: str) -> int | None:
    """The line of ``text`` (a TOML file) where the dotted ``key`` is set, or its table begins."""
    *table, last = key.split(".")
    current: list[str] = []
    header = None
    for number, line in enumerate(text.splitlines(), start=1):
        heading = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
        if heading:
            current = [part.strip().strip('"\'') for part in heading.group(1).split(".")]
            if current == [*table, last] and header is None:
                header = number
            continue
        if current == table and re.match(rf"\s*[\"']?{re.escape(last)}[\"']?\s*=", line):
            return number
    return header


def assignment_file(root: Path) -> Path | None:
    """The class folder's own assignment file, if it has one."""
    path = Path(root) / FILE_NAME
    return path if path.is_file() else None


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
