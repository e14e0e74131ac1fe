"""How a test ended, as data: set where the failure is known, never guessed from its message later.

``Kind`` is stored with every test result (results.json's ``extra_data.kind``,
the gradebook's ``test_results.kind``) and counted by the reports. A check
that finds the learner's work ran out of time (a KFP run stopped at its
limit) raises ``TimedOut``: an ``AssertionError``, so the test fails as any
failed check does, and the plugin records it as a timeout.
"""
from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    PASSED = "passed"
    FAILED = "failed"  # a check found something wrong
    TIMEOUT = "timeout"  # the learner's code (or the run it built) did not finish in time
    CRASHED = "crashed"  # the process running the learner's code died
    REFUSED = "refused"  # the submission could not be graded at all
    ERROR = "error"  # the learner's code raised, or sent back something that is not data
    SKIPPED = "skipped"
    GRADER_ERROR = "grader_error"  # the grader itself failed

    @classmethod
    def of(cls, value: object, passed: bool) -> "Kind":
        """The kind of a test that passed or not: ``value`` when it fits, else what the status says."""
        if passed:
            return cls.PASSED
        try:
            kind = cls(value)
        except ValueError:
            return cls.FAILED
        return cls.FAILED if kind is cls.PASSED else kind


class TimedOut(AssertionError):
    """A check failed because the learner's work did not finish within its limit."""
