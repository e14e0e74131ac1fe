"""What a learner is shown of a check, decided once for the terminal (``hml check``) and the notebook
(``%hml check``): the rows, their messages and hints, and the summary line.

Which tests a learner may see, and their messages, come from
``grader.record.learner_view``; a check runs public tests only. Messages keep
the learner's own text as plain text: each front end escapes it its own way.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.course.hints import function_of
from grader.grading.explain import Hint, explain, rewrite_frames
from grader.learner_tools.check import CheckEnd, CheckOutcome, public_points
from grader.learner_tools.hint_tiers import HintStep, HintTiers
from grader.record.kinds import Kind, Outcome
from grader.record.learner_view import learner_view

SAME_AS_ABOVE = "(the same as above)"


@dataclass
class CheckRow:
    test: str  # the test function, as `--hint` takes it
    name: str
    points: str
    verdict: str  # passed, failed, not attempted
    message: str = ""
    explanations: list[Hint] = field(default_factory=list)  # the grader's reading of the message
    hint: HintStep | None = None  # the author's hints reached so far (failed tests only)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"


@dataclass
class CheckView:
    exercise: str
    title: str
    checked: str  # the file, as the learner would name it
    end: CheckEnd
    sandboxed: bool
    warnings: list[str] = field(default_factory=list)
    problems: list = field(default_factory=list)  # grader.grading.explain.Problem
    rows: list[CheckRow] = field(default_factory=list)
    refused: str = ""
    unreadable: str = ""
    grader_failure: str = ""
    grader_explanations: list[Hint] = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.rows)

    @property
    def not_attempted(self) -> int:
        return sum(r.verdict == "not attempted" for r in self.rows)

    @property
    def summary(self) -> str:
        """The one line that says where the learner stands, and that it is not the grade."""
        if self.end is CheckEnd.UNREADABLE:
            return "No test ran: the notebook cannot be read."
        if self.refused:
            return (f"No public test ran: the file was refused (0/{self.max_score:g} points). Fix what is said "
                    "above and check again.")
        if self.end is CheckEnd.NOT_RUN:
            return f"No public test could run (0/{self.max_score:g} points). Fix what is said above first."
        if self.grader_failure:
            return f"{self.passed}/{len(self.rows)} public tests pass, but the check could not run to the end."
        line = f"{self.passed}/{len(self.rows)} public tests pass ({self.score:g}/{self.max_score:g} points)"
        if self.not_attempted:
            line += f" ({self.not_attempted} not attempted yet)"
        return line + (". This is not your grade: hidden tests decide it, with more cases (other inputs, the "
                       "edges of each rule).")

    @property
    def next_step(self) -> str:
        failing = [r for r in self.rows if not r.passed]
        if self.end is CheckEnd.PASSED:
            return "Every public test passes. Read the README once more for the cases the hidden tests check."
        if failing:
            return f"Start with the first test that does not pass: {failing[0].name}."
        return ""


def check_view(outcome: CheckOutcome, tiers: HintTiers | None, checked: str) -> CheckView:
    target = outcome.target
    exercise = target.exercise
    view = CheckView(exercise.id, exercise.title, checked, outcome.end, sandboxed=False,
                     warnings=list(target.warnings), problems=list(outcome.problems), unreadable=outcome.unreadable,
                     max_score=public_points(exercise))
    result = outcome.result
    if result is None:
        return view
    view.sandboxed = bool(result.sandboxed)
    view.score, view.max_score = result.score, result.max_score or view.max_score
    if result.outcome is Outcome.REFUSED:
        view.refused = result.refused or ""
        return view
    shown: set[str] = set()
    previous = None
    for test, row in zip(result.tests, learner_view(result)):
        key = function_of(test.nodeid)
        item = CheckRow(key, row.name, row.points, row.verdict)
        if not row.passed:
            message = rewrite_frames(row.message or "This check failed.", outcome.source, exercise.file).rstrip()
            item.message = SAME_AS_ABOVE if message == previous else message
            previous = message
            if item.message != SAME_AS_ABOVE:
                item.explanations = [h for h in explain(row.message, exercise) if h.key not in shown]
                shown.update(h.key for h in item.explanations)
            if tiers is not None and row.kind is not Kind.NOT_ATTEMPTED:
                item.hint = tiers.step(key)
        view.rows.append(item)
    if result.outcome is Outcome.GRADER_ERROR:
        view.grader_failure = rewrite_frames(result.grader_failure, outcome.source, exercise.file).rstrip()
        view.grader_explanations = [h for h in explain(result.grader_failure, exercise) if h.key not in shown]
    return view
