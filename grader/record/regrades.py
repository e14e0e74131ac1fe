"""What a regrade changed: per learner and exercise, the points before and after new tests, and which tests flipped.

When the hidden tests change (a new suite hash) and the class is graded
again, each learner's latest run is set against their last run under other
tests. The instructor reads this (``hml gradebook diff``, the report) before
anyone exports the new grades.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.record.gradebook import Gradebook, Run


@dataclass(frozen=True)
class TestChange:
    name: str
    before: str | None  # "passed", "failed", or None: the test did not exist
    after: str | None


@dataclass(frozen=True)
class RegradeDiff:
    learner: str
    exercise: str
    before: float
    after: float
    suite_before: str
    suite_after: str
    changes: tuple[TestChange, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.changes)


def regrade_diffs(book: "Gradebook", exercise: str | None = None) -> list[RegradeDiff]:
    """Each latest run graded under other tests than the run before it with other tests, by learner and exercise."""
    runs = book.history(exercise=exercise, tests=True)
    latest: dict[tuple[str, str], "Run"] = {}
    for run in runs:
        latest[run.learner, run.exercise] = run
    previous: dict[tuple[str, str], "Run"] = {}
    for run in runs:  # oldest first: the last one kept is the latest run under other tests
        now = latest[run.learner, run.exercise]
        if run.id < now.id and run.suite_hash != now.suite_hash:
            previous[run.learner, run.exercise] = run
    return [_diff(previous[key], latest[key]) for key in sorted(previous)]


def _verdicts(run: "Run") -> dict[str, str]:
    return {test.name: "passed" if test.passed else "failed" for test in run.tests}


def _diff(before: "Run", after: "Run") -> RegradeDiff:
    old, new = _verdicts(before), _verdicts(after)
    changes = tuple(TestChange(name, old.get(name), new.get(name)) for name in sorted(set(old) | set(new))
                    if old.get(name) != new.get(name))
    return RegradeDiff(after.learner, after.exercise, before.score, after.score, before.suite_hash, after.suite_hash,
                       changes)
