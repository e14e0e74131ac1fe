"""What a learner may see of a grading on a platform, and the words for what went wrong.

Each test shows its name, points and pass/fail. Public tests also show their
message; hidden tests never do (their outputs are the grader's own words,
yet a failing hidden test's message still hints at its inputs). A refused
submission says why; a grader failure says it was the grader's, not the
learner's, and its details stay in the platform's instructor log.
"""
from __future__ import annotations

from dataclasses import dataclass

from grader.results import GradeResult, TestResult

GRADER_FAILURE = ("The grader could not finish grading this submission because of a problem on the grader's "
                  "side, not in your code. No score was recorded for it: please submit again later, and tell "
                  "the course staff if this keeps happening.")
REFUSED = "Your submission could not be graded: {reason}"
NO_TESTS = "No tests ran on this submission."


@dataclass
class Row:
    name: str
    score: float
    max_score: float
    passed: bool
    hidden: bool
    message: str  # empty for hidden tests, and for public ones that said nothing

    @property
    def points(self) -> str:
        return f"{self.score:g}/{self.max_score:g}"

    @property
    def verdict(self) -> str:
        return "passed" if self.passed else "failed"


def row(test: TestResult) -> Row:
    hidden = test.visibility != "visible"
    return Row(test.name, test.score, test.max_score, test.passed, hidden, "" if hidden else test.output.strip())


def rows(result: GradeResult) -> list[Row]:
    return [row(t) for t in result.tests]


def is_grader_failure(result: GradeResult) -> bool:
    """The grader, not the submission, failed: no score should be recorded."""
    return not result.refused and (bool(result.error) or not result.tests)


def headline(result: GradeResult) -> str:
    """One line for the learner: the score, why the submission was refused, or that the grader failed."""
    if result.refused:
        return REFUSED.format(reason=result.refused)
    if is_grader_failure(result):
        return GRADER_FAILURE
    passed = sum(t.passed for t in result.tests)
    return (f"Score: {result.score:g}/{result.max_score:g} ({passed} of {len(result.tests)} tests passed; "
            f"hidden tests show pass or fail only).")


def summary(result: GradeResult, limit: int | None = None) -> str:
    """Plain text: the headline, then a line per test (with public tests' messages, cut to ``limit``)."""
    lines = [headline(result)]
    if result.refused or is_grader_failure(result):
        return lines[0]
    for r in rows(result):
        kind = "hidden" if r.hidden else "public"
        lines.append(f"- [{r.verdict}] {r.name} ({kind}, {r.points})")
        if r.message and not r.passed and limit != 0:
            message = r.message if limit is None or len(r.message) <= limit else r.message[:limit] + "…"
            lines.extend("    " + line for line in message.splitlines())
    return "\n".join(lines)
