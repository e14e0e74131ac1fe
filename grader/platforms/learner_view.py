"""The words platforms show around a learner's view of a grading (``grader.record.learner_view``).

A refused submission says why; a grader failure (``Outcome.GRADER_ERROR``: an
error, or no test found or run) says it was the grader's, not the learner's,
and its details stay in the platform's instructor log. How a grading ended
is the result's own ``outcome``, never worked out here.
"""
from __future__ import annotations

from grader.record.kinds import Outcome
from grader.record.learner_view import learner_view
from grader.record.results import GradeResult

GRADER_FAILURE = ("The grader could not finish grading this submission because of a problem on the grader's "
                  "side, not in your code. No score was recorded for it: please submit again later, and tell "
                  "the course staff if this keeps happening.")
REFUSED = "Your submission could not be graded: {reason}"


# The rows themselves are decided in one place for every output: grader/record/learner_view.py.
rows = learner_view


def headline(result: GradeResult) -> str:
    """One line for the learner: the score, why the submission was refused, or that the grader failed."""
    if result.outcome is Outcome.REFUSED:
        return REFUSED.format(reason=result.refused)
    if result.outcome is Outcome.GRADER_ERROR:
        return GRADER_FAILURE
    passed = sum(t.passed for t in result.tests)
    return (f"Score: {result.score:g}/{result.max_score:g} ({passed} of {len(result.tests)} tests passed; "
            f"hidden tests show pass or fail only).")


def summary(result: GradeResult, limit: int | None = None) -> str:
    """Plain text: the headline, then a line per test (with public tests' messages, cut to ``limit``)."""
    lines = [headline(result)]
    if result.outcome is not Outcome.GRADED:
        return lines[0]
    for r in rows(result):
        kind = "hidden" if r.hidden else "public"
        lines.append(f"- [{r.verdict}] {r.name} ({kind}, {r.points})")
        if r.message and not r.passed and limit != 0:
            message = r.message if limit is None or len(r.message) <= limit else r.message[:limit] + "…"
            lines.extend("    " + line for line in message.splitlines())
    return "\n".join(lines)
