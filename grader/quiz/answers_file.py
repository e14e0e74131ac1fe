"""Answers files: a YAML mapping of question id to answer, graded without a terminal session.

    a-single-choice-id: B         # a letter, or the text of the choice
    a-multiple-select-id: [A, C]  # a list, or "A, C" / "AC" / "A C"
    a-true-false-id: false        # true/false, yes/no, t/f, or A/B
    a-numeric-id: 256             # a number; right within the question's tolerance
    a-short-text-id: some words   # case, quotes, backticks, end punctuation and () ignored

Letters refer to the choices in the order ``--seed`` lays them out (as shown by
``hml quiz take QUIZ --seed S`` or ``hml quiz export QUIZ --seed S``); without ``--seed``,
to the order in the bank file, which is also the order of a plain ``hml quiz export``.
The text of a choice is accepted instead of a letter and never depends on the seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.quiz.errors import AnswersFileError
from grader.quiz.grading import AnswerVerdict, Scorecard, grade_answer
from grader.quiz.model import Bank, QuestionKind, format_number
from grader.quiz.responses import RawAnswer
from grader.quiz.selection import Presented, Selection
from grader.quiz.yaml_strict import AnswersLoader, Refused, describe_yaml_error, load_file


@dataclass(frozen=True)
class EntryProblem:
    """An entry of the answers file that matches no question of this quiz."""

    question_id: str
    message: str


@dataclass(frozen=True)
class FileGrading:
    verdicts: list[AnswerVerdict]
    problems: list[EntryProblem]


def read_answers(path: Path | str) -> dict[str, RawAnswer]:
    """The id -> raw answer mapping, or ``AnswersFileError`` when the file cannot be used at all."""
    path = Path(path)
    try:
        data = load_file(path, AnswersLoader)
    except FileNotFoundError:
        raise AnswersFileError(f"No answers file at {path}.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AnswersFileError(f"Cannot read the answers file {path}: {err}") from err
    except Refused as err:
        raise AnswersFileError(f"{path} is refused as an answers file ({describe_yaml_error(err)}).") from None
    except yaml.YAMLError as err:
        raise AnswersFileError(f"{path} is not valid YAML ({describe_yaml_error(err)}).") from err
    if data is None or data == "":
        raise AnswersFileError(f"{path} is empty: write one line per question, like `question-id: B`.")
    if not isinstance(data, dict):
        raise AnswersFileError(f"{path} must be a mapping of question id to answer, one per line, "
                               f"like `question-id: B`.")
    return {str(key).strip(): value for key, value in data.items()}


def grade_answers(bank: Bank, presented: list[Presented], answers: dict[str, RawAnswer]) -> FileGrading:
    """Grade every presented question (missing ones are UNANSWERED) and report stray entries."""
    asked = {p.question.id for p in presented}
    verdicts = [grade_answer(p, answers.get(p.question.id)) for p in presented]
    problems = []
    for qid in answers:
        if qid in asked:
            continue
        if bank.question(qid) is None:
            problems.append(EntryProblem(qid, f"there is no question {qid!r} in {bank.name!r}"))
        else:
            problems.append(EntryProblem(qid, "this question is not part of the quiz as selected "
                                              "(check --module, --topic and --count); it was not graded"))
    return FileGrading(verdicts, problems)


def grading_json(quiz_name: str, selection: Selection, grading: FileGrading) -> dict:
    """What `hml quiz grade --json` prints: the score, a verdict per question, and the stray entries."""
    card = Scorecard.of(grading.verdicts)
    return {
        "quiz": quiz_name,
        "seed": selection.seed,
        "score": card.total.correct,
        "total": card.total.asked,
        "percent": round(card.total.percent, 1),
        "questions": [
            {"id": v.question.id, "module": v.question.module, "topic": v.question.topic,
             "status": v.status.value, "given": v.given, "problem": v.problem or None,
             "answer": v.presented.answer_display()}
            for v in grading.verdicts
        ],
        "problems": [{"id": p.question_id, "problem": p.message} for p in grading.problems],
        "by_module": card.to_dict()["by_module"],
        "by_topic": card.to_dict()["by_topic"],
    }


def answer_key(presented: list[Presented]) -> dict[str, RawAnswer]:
    """The answers file that scores full marks for these questions (letters as laid out here)."""
    key: dict[str, RawAnswer] = {}
    for p in presented:
        q = p.question
        if q.kind is QuestionKind.MULTIPLE:
            key[q.id] = [p.letter(c) for c in p.choices if c in q.correct]
        elif q.kind.has_choices:
            key[q.id] = p.letter(next(iter(q.correct)))
        elif q.kind is QuestionKind.NUMERIC:
            key[q.id] = format_number(q.number)
        else:
            key[q.id] = q.accepted[0]
    return key
