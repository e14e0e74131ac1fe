"""Finding and reading question banks.

QUIZ on the command line is a bank name (a ``.yaml`` file in the quiz directory) or a path.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from grader.quiz.errors import BankProblem, QuizBankError, QuizNotFound
from grader.quiz.model import Bank
from grader.quiz.schema import build_bank
from grader.quiz.yaml_strict import BankLoader, Refused, describe_yaml_error, load_file

QUIZ_DIR_ENV = "HML_QUIZ_DIR"
BANK_SUFFIXES = (".yaml", ".yml")


def quiz_dir() -> Path:
    """Where named banks live: ``$HML_QUIZ_DIR``, else the project's ``quizzes/`` directory."""
    override = os.environ.get(QUIZ_DIR_ENV)
    if override:
        return Path(override).expanduser()
    # grader/quiz/loader.py -> project root; banks ship beside the package, not inside it.
    return Path(__file__).resolve().parents[2] / "quizzes"


def bank_paths() -> list[Path]:
    """Every bank file in the quiz directory, sorted by name."""
    folder = quiz_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in BANK_SUFFIXES and p.is_file())


def resolve(quiz: str) -> Path:
    """The bank file QUIZ refers to, or ``QuizNotFound`` listing what exists."""
    as_path = Path(quiz).expanduser()
    if as_path.suffix in BANK_SUFFIXES or os.sep in quiz or "/" in quiz:
        if as_path.is_file():
            return as_path
        raise QuizNotFound(f"No quiz file at {quiz}.")
    for suffix in BANK_SUFFIXES:
        candidate = quiz_dir() / f"{quiz}{suffix}"
        if candidate.is_file():
            return candidate
    names = ", ".join(p.stem for p in bank_paths()) or "none"
    raise QuizNotFound(f"No quiz named {quiz!r}. Available quizzes: {names} "
                       f"(in {quiz_dir()}; `hml quiz list` shows them).")


def load_bank(path: Path | str) -> Bank:
    """Read and validate one bank file; any problem raises ``QuizBankError`` naming the file."""
    path = Path(path)
    try:
        data = load_file(path, BankLoader)
    except (OSError, UnicodeDecodeError) as err:
        raise QuizBankError(path, [BankProblem(None, f"cannot read the file ({err})")]) from err
    except Refused as err:
        raise QuizBankError(path, [BankProblem(None, describe_yaml_error(err))]) from None
    except yaml.YAMLError as err:
        raise QuizBankError(path, [BankProblem(None, f"not valid YAML: {describe_yaml_error(err)}")]) from err
    return build_bank(data, path)


def load_quiz(quiz: str) -> Bank:
    """``resolve`` then ``load_bank``: what the commands call with their QUIZ argument."""
    return load_bank(resolve(quiz))
