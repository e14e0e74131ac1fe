"""Which questions a quiz asks, in which order, with choices in which order.

Reproducibility rule: with a seed, the seed (with the filters) fixes which questions are asked
and in which order, and each question's choice order is fixed by (seed, question id) alone;
without a seed nothing is shuffled and the bank's order is used. Choice order depends on the
question id rather than on its position, so a learner who narrows a seeded quiz with --count
or --module still sees the same letters for a question.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass

from grader.quiz.errors import SelectionError
from grader.quiz.model import Bank, Question, QuestionKind

LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class Presented:
    """A question as shown to the learner: its choices in display order, lettered A, B, ..."""

    question: Question
    choices: tuple[str, ...]

    def letter(self, choice: str) -> str:
        return LETTERS[self.choices.index(choice)]

    def lettered(self) -> list[tuple[str, str]]:
        return [(LETTERS[i], c) for i, c in enumerate(self.choices)]

    def answer_display(self) -> str:
        """The right answer with the letters the learner saw."""
        q = self.question
        if not q.kind.has_choices:
            return q.answer_text()
        return "; ".join(f"{self.letter(c)}) {c}" for c in self.choices if c in q.correct)

    def answer_short(self) -> str:
        """The right answer in letters for choice questions (for tables)."""
        q = self.question
        if not q.kind.has_choices:
            return q.answer_text()
        return ", ".join(self.letter(c) for c in self.choices if c in q.correct)


@dataclass(frozen=True)
class Selection:
    """The options that pick a quiz out of a bank; kept to describe an attempt in the history."""

    module: str | None = None
    topic: str | None = None
    count: int | None = None
    seed: int | None = None

    def describe(self) -> str:
        parts = [f"{name} {value}" for name, value in
                 (("module", self.module), ("topic", self.topic), ("count", self.count), ("seed", self.seed))
                 if value is not None]
        return ", ".join(parts) or "whole bank"


def drawn_seed() -> int:
    """A fresh seed for a quiz taken without --seed; shown, so the learner can repeat exactly that quiz."""
    return random.SystemRandom().randrange(1, 10_000)


def present(question: Question, seed: int | None, round_no: int = 0) -> Presented:
    """Lay out one question's choices: shuffled for a seed, in bank order otherwise.

    True/false keeps True before False: shuffling two fixed words only confuses.
    """
    choices = list(question.choices)
    if seed is not None and question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        # String seeds are hashed with SHA-512 by random, so this is stable across runs and platforms.
        random.Random(f"{seed}:{round_no}:{question.id}").shuffle(choices)
    return Presented(question, tuple(choices))


def select(bank: Bank, selection: Selection) -> list[Presented]:
    """The questions to ask, already laid out; ``SelectionError`` when filters match nothing."""
    questions = list(bank.questions)
    if selection.module:
        questions = _filter(questions, "module", selection.module, bank)
    if selection.topic:
        questions = _filter(questions, "topic", selection.topic, bank)
    if selection.seed is not None:
        questions = random.Random(selection.seed).sample(questions, len(questions))
    if selection.count is not None:
        questions = questions[: selection.count]
    return [present(q, selection.seed) for q in questions]


def _filter(questions: list[Question], field: str, needle: str, bank: Bank) -> list[Question]:
    # Substring match, case-insensitive: `--module hybrid` is easier to type than the full name.
    wanted = needle.casefold().strip()
    kept = [q for q in questions if wanted in getattr(q, field).casefold()]
    if not kept:
        known = sorted({getattr(q, field) for q in (questions or bank.questions)})
        raise SelectionError(f"No question in {bank.name!r} has a {field} matching {needle!r}. "
                             f"{field.capitalize()}s to choose from: {'; '.join(known)}.")
    return kept
