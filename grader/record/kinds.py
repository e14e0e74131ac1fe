"""How a test ended, and how a whole grading ended, as data: set where it is known, never guessed later.

``Kind`` is stored with every test result (results.json's ``extra_data.kind``,
the gradebook's ``test_results.kind``) and counted by the reports. A check
that finds the learner's work ran out of time (a KFP run stopped at its
limit) raises ``TimedOut``: an ``AssertionError``, so the test fails as any
failed check does, and the plugin records it as a timeout. ``NotAttempted``
does the same for a part that is still the starter's TODO (a component whose
source still raises ``NotImplementedError``).

``Outcome`` is how a whole grading ended: decided once, by ``Outcome.of``,
when a ``GradeResult`` is built (``GradeResult.outcome``), and stored in the
gradebook (``runs.status``). Gradebook, reports and platforms read it; none
derives it again.
"""
from __future__ import annotations

from enum import Enum, StrEnum


class Kind(str, Enum):
    PASSED = "passed"
    FAILED = "failed"  # a check found something wrong
    TIMEOUT = "timeout"  # the learner's code (or the run it built) did not finish in time
    CRASHED = "crashed"  # the process running the learner's code died
    REFUSED = "refused"  # the submission could not be graded at all
    ERROR = "error"  # the learner's code raised, or sent back something that is not data
    SKIPPED = "skipped"
    NOT_ATTEMPTED = "not_attempted"  # what the test checks still raises the starter's NotImplementedError
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


class Outcome(StrEnum):
    """How a whole grading ended. The values are the gradebook's ``runs.status`` words (and its exports')."""

    GRADED = "graded"  # tests ran and scored the submission
    REFUSED = "refused"  # the submission could not be graded (intake said why); it scores 0
    GRADER_ERROR = "error"  # the grader failed, or found or ran no test: no score should be recorded

    @classmethod
    def of(cls, refused: str | None, error: str | None, tests: int) -> "Outcome":
        """The one rule: refused beats everything; a grader error or no test at all is the grader's failure."""
        if refused:
            return cls.REFUSED
        if error or not tests:
            return cls.GRADER_ERROR
        return cls.GRADED


class TimedOut(AssertionError):
    """A check failed because the learner's work did not finish within its limit."""


class NotAttempted(AssertionError):
    """A check failed because what it checks is still the starter's TODO (it raises NotImplementedError)."""
