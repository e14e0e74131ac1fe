"""Everything that can go wrong in a quiz, as exceptions whose message a learner can act on."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError


class QuizError(GraderError):
    """Base of the quiz errors; ``str(err)`` is the whole message for the learner."""


@dataclass(frozen=True)
class BankProblem:
    """One thing wrong in a bank: which question (None for the file itself) and what."""

    question_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"question {self.question_id!r}" if self.question_id else "bank"
        return f"{where}: {self.message}"


class QuizBankError(QuizError):
    """A question bank is unreadable or breaks the schema; names the file and every problem."""

    def __init__(self, path: Path | str, problems: list[BankProblem]):
        self.path = Path(path)
        self.problems = list(problems)
        lines = [f"{_display(self.path)} is not a valid quiz bank:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


class QuizNotFound(QuizError):
    """QUIZ named neither a bank in the quiz directory nor an existing .yaml file."""


class SelectionError(QuizError):
    """--module / --topic left no question to ask."""


class AnswerError(QuizError):
    """One answer could not be read (a letter out of range, a number that does not parse...)."""


class AnswersFileError(QuizError):
    """The answers file as a whole is unusable (missing, not YAML, not a mapping)."""


class HistoryError(QuizError):
    """The attempt history file cannot be opened or written."""


def _display(path: Path) -> str:
    # Relative paths read better in a terminal when the bank is inside the working directory.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
