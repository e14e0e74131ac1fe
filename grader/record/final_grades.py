"""A learner's grade for an exercise as the course counts it: the tests' points, then what the course adds.

In order: the latest run's points (``raw``); a test's points an instructor
overrode; rubric points; the late penalty (``grader.course.deadlines``),
from the submission time the intake recorded. An override of the exercise
sets the final points outright. Nothing here is stored: every export,
report and grade push computes it again from the gradebook and the
assignment, so a policy change or an extension needs no regrade.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from grader.course.deadlines import ON_TIME, Lateness
from grader.record import adjustments as adjusting
from grader.record.adjustments import Adjustment, AdjustmentKind
from grader.record.kinds import Outcome

if TYPE_CHECKING:
    from grader.course.assignment import Assignment
    from grader.record.gradebook import Gradebook, Run


@dataclass(frozen=True)
class FinalGrade:
    learner: str
    exercise: str
    run: "Run"                   # the latest run: what was graded
    max_points: float            # the assignment's, rubric items included
    raw: float                   # what the tests gave
    tests: float                 # the tests' points after test overrides
    rubric: float
    lateness: Lateness
    penalty: float               # points lost to lateness
    final: float | None          # None: the grader failed and nobody set the points
    submitted_at: datetime | None  # None: not known, counted on time
    due: datetime | None
    adjustments: tuple[Adjustment, ...] = ()  # those that hold for this run
    lms_late: bool | None = None   # the LMS's own flag, for a submission it gave no time for
    stale: tuple[Adjustment, ...] = ()  # in force, but for a test or rubric item this run or assignment lacks

    @property
    def override(self) -> Adjustment | None:
        return next((a for a in self.adjustments if a.kind is AdjustmentKind.OVERRIDE), None)

    @property
    def earned(self) -> float:
        """The points before lateness: the tests' (test overrides included) and the rubric's, at most the maximum."""
        return round(min(self.max_points, self.tests + self.rubric), 6)

    @property
    def time_known(self) -> bool:
        return self.submitted_at is not None or self.due is None

    def test_name(self, nodeid: str) -> str:
        """A test's name as the learner's page shows it (an override names the test by its node id)."""
        return next((t.name for t in self.run.tests if t.nodeid == nodeid), nodeid)


def final_grades(book: "Gradebook", assignment: "Assignment") -> list[FinalGrade]:
    """Every learner's final grade of each assigned exercise they submitted, by learner then exercise."""
    runs = book.assigned(assignment, tests=True)
    times = book.submission_times()
    held = adjusting.in_force(book)
    assignment.check_learners(book.learners())
    by_learner: dict[str, list["Run"]] = {}
    for run in runs:
        by_learner.setdefault(run.learner, []).append(run)
    grades = []
    for learner, own in sorted(by_learner.items()):
        handed = {run.exercise: times.get((learner, run.exercise)) for run in own}
        submitted = {exercise: time.submitted_at if time else None for exercise, time in handed.items()}
        parts = {run.exercise: _parts(run, assignment, tuple(held.get((learner, run.exercise), ()))) for run in own}
        # An exercise whose points an override sets loses nothing to lateness: no grace day is spent on it.
        worth = {exercise: (0.0 if part.overridden else part.earned, assignment.maxima[exercise])
                 for exercise, part in parts.items()}
        lateness = assignment.deadlines.lateness(learner, submitted, worth)
        for run in own:
            time = handed[run.exercise]
            grades.append(_grade(run, assignment, parts[run.exercise], lateness.get(run.exercise, ON_TIME),
                                 submitted[run.exercise], time.late if time else None))
    return grades


@dataclass(frozen=True)
class _Parts:
    """What a run earns before lateness, and the adjustments that hold for it."""

    tests: float
    rubric: float
    earned: float
    applied: tuple[Adjustment, ...]
    stale: tuple[Adjustment, ...]  # overrides of tests this run no longer has

    @property
    def overridden(self) -> bool:
        return any(a.kind is AdjustmentKind.OVERRIDE for a in self.applied)


def _parts(run: "Run", assignment: "Assignment", held: tuple[Adjustment, ...]) -> _Parts:
    nodeids = {t.nodeid for t in run.tests}
    stale = tuple(a for a in held if a.kind is AdjustmentKind.TEST and a.target not in nodeids)
    declared = assignment.rubric.get(run.exercise, {})
    stale += tuple(a for a in held if a.kind is AdjustmentKind.RUBRIC and a.target not in declared)
    applied = tuple(a for a in held if a not in stale)
    by_test = {a.target: a.points for a in applied if a.kind is AdjustmentKind.TEST}
    tests = round(sum(by_test.get(t.nodeid, t.score) for t in run.tests), 6) if by_test else run.score
    rubric = round(sum(min(a.points, declared[a.target].points) for a in applied if a.kind is AdjustmentKind.RUBRIC),
                   6)
    return _Parts(tests, rubric, min(assignment.maxima[run.exercise], tests + rubric), applied, stale)


def _grade(run: "Run", assignment: "Assignment", parts: _Parts, lateness: Lateness, submitted_at: datetime | None,
           lms_late: bool | None) -> FinalGrade:
    max_points = assignment.maxima[run.exercise]
    penalty = round(min(parts.earned, lateness.share_lost * max_points), 6)
    override = next((a for a in parts.applied if a.kind is AdjustmentKind.OVERRIDE), None)
    if override is not None:
        final: float | None = override.points
    elif run.outcome is Outcome.GRADER_ERROR:
        final = None  # no grade rather than points the learner did not earn: only an override of the whole sets one
    else:
        final = round(parts.earned - penalty, 6)
    return FinalGrade(run.learner, run.exercise, run, max_points, run.score, parts.tests, parts.rubric, lateness,
                      penalty, final, submitted_at, assignment.deadlines.due_for(run.learner, run.exercise),
                      parts.applied, lms_late, parts.stale)

