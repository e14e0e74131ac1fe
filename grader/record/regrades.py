"""What a regrade changed: per learner and exercise, the points before and after new tests, and which tests flipped.

When the hidden tests change (a new suite hash) and the class is graded
again, each learner's latest run is set against their last run under other
tests. The instructor reads this (``hml gradebook diff``, the report) before
anyone exports the new grades.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.record import adjustments as adjusting
from grader.record.adjustments import Adjustment, AdjustmentKind

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


def _verdicts(run: "Run") -> dict[str, tuple[str, str]]:
    """Node id -> (name, verdict): two tests may share a name (a visible and a hidden one), never a node id."""
    return {test.nodeid: (test.name, "passed" if test.passed else "failed") for test in run.tests}


def _diff(before: "Run", after: "Run") -> RegradeDiff:
    old, new = _verdicts(before), _verdicts(after)
    changes = tuple(TestChange((new.get(nodeid) or old[nodeid])[0], old.get(nodeid, (None, None))[1],
                               new.get(nodeid, (None, None))[1])
                    for nodeid in sorted(set(old) | set(new), key=lambda n: ((new.get(n) or old[n])[0], n))
                    if old.get(nodeid, (None, None))[1] != new.get(nodeid, (None, None))[1])
    return RegradeDiff(after.learner, after.exercise, before.score, after.score, before.suite_hash, after.suite_hash,
                       changes)


def stale_test_overrides(book: "Gradebook", exercise: str | None = None) -> list[Adjustment]:
    """Overrides of a test the learner's latest run no longer has (a regrade renamed or dropped it): in force,
    counting nothing until the instructor sets them again or removes them."""
    latest = {(run.learner, run.exercise): {t.nodeid for t in run.tests} for run in book.latest()
              if exercise is None or run.exercise == exercise}
    return [a for key, held in sorted(adjusting.in_force(book).items()) if key in latest for a in held
            if a.kind is AdjustmentKind.TEST and a.target not in latest[key]]
