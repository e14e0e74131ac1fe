"""What a learner may see of a grading: decided here, once.

Every test shows its name, points and whether it passed (and how it ended:
``grader.record.kinds``). Only public (``visible``) tests show their message; a
hidden test's message, though made of the grader's own words, still hints at
its inputs, so it never leaves the instructor's side. The learner pages of
``hml report``, ``hml check`` (and its ``--results`` file) and the platform
runners show a result through this module::

    from grader.record.learner_view import learner_view
    for row in learner_view(result):          # a GradeResult or a gradebook Run
        print(row.name, row.points, row.verdict, row.message)
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from grader.record.kinds import Kind
from grader.record.results import GradeResult, TestResult

HIDDEN_NOTE = "Hidden test: only whether it passed is shown."


@dataclass(frozen=True)
class Row:
    name: str
    score: float
    max_score: float
    passed: bool
    hidden: bool
    kind: Kind
    message: str  # a public test's message when it failed; always empty for hidden tests

    @property
    def points(self) -> str:
        return f"{round(self.score, 2):g}/{round(self.max_score, 2):g}"

    @property
    def verdict(self) -> str:
        if self.passed:
            return "passed"
        return "not attempted" if self.kind is Kind.NOT_ATTEMPTED else "failed"

    @property
    def note(self) -> str:
        return HIDDEN_NOTE if self.hidden else ""


def row(test: TestResult) -> Row:
    public = test.public
    message = test.output.strip() if public and not test.passed else ""
    return Row(test.name, test.score, test.max_score, test.passed, not public, test.kind, message)


def learner_view(result) -> list[Row]:
    """The tests of ``result`` (anything with ``.tests``: a GradeResult, a gradebook Run) as a learner sees them."""
    return [row(test) for test in result.tests]


def learner_result(result: GradeResult) -> GradeResult:
    """A copy of ``result`` fit to hand to the learner (a results.json of their own): hidden outputs removed."""
    tests = [t if t.public else replace(t, output="") for t in result.tests]
    return replace(result, tests=tests, metrics=dict(result.metrics))
