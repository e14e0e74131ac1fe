"""The quiz data: questions and banks, as plain frozen dataclasses."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class QuestionKind(str, Enum):
    """The question types a bank may use (the ``type`` key in YAML)."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    NUMERIC = "numeric"
    TEXT = "text"

    @property
    def has_choices(self) -> bool:
        return self in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)


# A true/false question is a single choice between these two, so grading and display share one path.
TRUE_FALSE_CHOICES = ("True", "False")


@dataclass(frozen=True)
class Question:
    """One question. Only the fields of its kind are meaningful.

    ``correct`` holds choice texts (never letters), so shuffling choices cannot change the key.
    """

    id: str
    module: str
    topic: str
    kind: QuestionKind
    prompt: str
    explanation: str
    choices: tuple[str, ...] = ()
    correct: frozenset[str] = frozenset()
    number: float | None = None
    tolerance: float = 0.0
    accepted: tuple[str, ...] = ()

    def answer_text(self) -> str:
        """The right answer as a person would write it, without letters."""
        if self.kind is QuestionKind.NUMERIC:
            tol = f" (± {format_number(self.tolerance)})" if self.tolerance else ""
            return f"{format_number(self.number)}{tol}"
        if self.kind is QuestionKind.TEXT:
            return self.accepted[0]
        return "; ".join(c for c in self.choices if c in self.correct)


@dataclass(frozen=True)
class Bank:
    """A question bank read from one YAML file."""

    name: str
    title: str
    description: str
    modules: tuple[str, ...]
    questions: tuple[Question, ...]
    path: Path
    _by_id: dict[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def counts_by_module(self) -> dict[str, int]:
        counts = Counter(q.module for q in self.questions)
        return {module: counts.get(module, 0) for module in self.modules}


def format_number(value: float | None) -> str:
    """Numbers as a learner would write them: 256, not 256.0."""
    if value is None:
        return ""
    return f"{value:.12g}"
