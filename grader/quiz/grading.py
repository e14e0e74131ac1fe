"""Verdicts on answers and the score they add up to, overall, per module and per topic."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from grader.quiz.errors import AnswerError
from grader.quiz.model import Question
from grader.quiz.responses import RawAnswer, interpret, is_blank
from grader.quiz.selection import Presented


class Status(str, Enum):
    CORRECT = "correct"
    WRONG = "wrong"
    INVALID = "invalid"          # an answer was given but could not be read
    UNANSWERED = "unanswered"

    @property
    def missed(self) -> bool:
        """Counts as a miss in the history: the learner answered, and not rightly."""
        return self in (Status.WRONG, Status.INVALID)


@dataclass(frozen=True)
class AnswerVerdict:
    presented: Presented
    status: Status
    given: str = ""     # the learner's answer as understood (or as written, if unreadable)
    problem: str = ""   # why an invalid answer could not be read
    given_short: str = ""  # the answer in letters, for tables
    chosen: frozenset[str] = frozenset()  # choice texts picked, for choice questions

    @property
    def question(self) -> Question:
        return self.presented.question

    @property
    def correct(self) -> bool:
        return self.status is Status.CORRECT


def grade_answer(presented: Presented, raw: RawAnswer | None) -> AnswerVerdict:
    """Judge one raw answer; unreadable answers become INVALID verdicts, never exceptions."""
    if is_blank(raw):
        return AnswerVerdict(presented, Status.UNANSWERED)
    try:
        response = interpret(presented, raw)
    except AnswerError as err:
        written = _as_written(raw)
        return AnswerVerdict(presented, Status.INVALID, given=written, problem=str(err), given_short=written)
    status = Status.CORRECT if response.is_correct(presented) else Status.WRONG
    return AnswerVerdict(presented, status, given=response.shown, given_short=response.short, chosen=response.chosen)


@dataclass
class Tally:
    correct: int = 0
    asked: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.asked if self.asked else 0.0

    def add(self, verdict: AnswerVerdict) -> None:
        self.asked += 1
        self.correct += verdict.correct

    def __str__(self) -> str:
        return f"{self.correct}/{self.asked}"


@dataclass
class Scorecard:
    """Totals in the order questions were asked, so tables follow the quiz."""

    total: Tally = field(default_factory=Tally)
    by_module: dict[str, Tally] = field(default_factory=OrderedDict)
    by_topic: dict[tuple[str, str], Tally] = field(default_factory=OrderedDict)

    @classmethod
    def of(cls, verdicts: list[AnswerVerdict]) -> "Scorecard":
        card = cls()
        for verdict in verdicts:
            q = verdict.question
            card.total.add(verdict)
            card.by_module.setdefault(q.module, Tally()).add(verdict)
            card.by_topic.setdefault((q.module, q.topic), Tally()).add(verdict)
        return card

    def to_dict(self) -> dict:
        def tally(t: Tally) -> dict:
            return {"correct": t.correct, "asked": t.asked, "percent": round(t.percent, 1)}

        return {
            **tally(self.total),
            "by_module": {m: tally(t) for m, t in self.by_module.items()},
            "by_topic": [{"module": m, "topic": topic, **tally(t)} for (m, topic), t in self.by_topic.items()],
        }


def _as_written(raw: RawAnswer) -> str:
    if isinstance(raw, list):
        return ", ".join(str(r) for r in raw)
    return str(raw).strip()
