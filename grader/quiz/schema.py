"""The bank schema: turns parsed YAML into a ``Bank``, or lists every problem it finds.

Authors fix banks faster when they see all problems at once, so checks collect rather than stop.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from grader.quiz.errors import BankProblem, QuizBankError
from grader.quiz.model import TRUE_FALSE_CHOICES, Bank, Question, QuestionKind

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
BANK_KEYS = {"title", "description", "modules", "questions"}
COMMON_KEYS = {"id", "module", "topic", "type", "prompt", "answer", "explanation"}
KIND_KEYS = {
    QuestionKind.SINGLE: {"choices"},
    QuestionKind.MULTIPLE: {"choices"},
    QuestionKind.TRUE_FALSE: set(),
    QuestionKind.NUMERIC: {"tolerance"},
    QuestionKind.TEXT: set(),
}
MAX_CHOICES = 26  # one letter each


def normalise(text: str) -> str:
    """How typed text is compared: case and runs of white space do not matter."""
    return " ".join(text.split()).casefold()


def build_bank(data: Any, path: Path) -> Bank:
    """Validate ``data`` (the YAML document of ``path``) and build the bank, or raise ``QuizBankError``."""
    problems: list[BankProblem] = []

    def bank_problem(message: str) -> None:
        problems.append(BankProblem(None, message))

    if not isinstance(data, dict):
        raise QuizBankError(path, [BankProblem(None, "the file must be a mapping with 'title', 'modules' "
                                                      "and 'questions'")])
    for key in sorted(set(data) - BANK_KEYS, key=str):
        bank_problem(f"unknown key {key!r} (allowed: {', '.join(sorted(BANK_KEYS))})")
    title = data.get("title")
    if not _is_text(title):
        bank_problem("'title' must be a non-empty text")
    description = data.get("description", "")
    if not isinstance(description, str):
        bank_problem("'description' must be text")
    modules = data.get("modules")
    if not (isinstance(modules, list) and modules and all(_is_text(m) for m in modules)):
        bank_problem("'modules' must be a non-empty list of module names")
        modules = []
    elif len(set(modules)) != len(modules):
        bank_problem("'modules' lists a module twice")
    raw_questions = data.get("questions")
    if not (isinstance(raw_questions, list) and raw_questions):
        bank_problem("'questions' must be a non-empty list")
        raw_questions = []

    questions: list[Question] = []
    seen_ids: set[str] = set()
    for position, raw in enumerate(raw_questions, start=1):
        question = _build_question(raw, position, modules, seen_ids, problems)
        if question is not None:
            questions.append(question)

    if problems:
        raise QuizBankError(path, problems)
    return Bank(name=path.stem, title=title, description=description or "", modules=tuple(modules),
                questions=tuple(questions), path=path)


def _build_question(raw: Any, position: int, modules: list[str], seen_ids: set[str],
                    problems: list[BankProblem]) -> Question | None:
    if not isinstance(raw, dict):
        problems.append(BankProblem(f"#{position}", "each question must be a mapping"))
        return None
    qid = raw.get("id")
    label = qid if _is_text(qid) else f"#{position}"
    before = len(problems)

    def problem(message: str) -> None:
        problems.append(BankProblem(label, message))

    if not _is_text(qid):
        problem("'id' is missing")
    elif not ID_PATTERN.match(qid):
        problem("'id' must use lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
    elif qid in seen_ids:
        problem("the id is used by another question; ids must be unique")
    else:
        seen_ids.add(qid)

    try:
        kind = QuestionKind(raw.get("type"))
    except ValueError:
        problem(f"'type' must be one of {', '.join(k.value for k in QuestionKind)}")
        return None
    for key in sorted(set(raw) - COMMON_KEYS - KIND_KEYS[kind], key=str):
        problem(f"unknown key {key!r} for a {kind.value} question")
    for key in ("module", "topic", "prompt", "explanation"):
        if not _is_text(raw.get(key)):
            problem(f"'{key}' is missing or empty")
    module = raw.get("module")
    if _is_text(module) and modules and module not in modules:
        problem(f"module {module!r} is not one of the bank's modules: {', '.join(modules)}")
    if "answer" not in raw or raw["answer"] is None:
        problem("'answer' is missing")
        return None

    fields = _kind_fields(kind, raw, problem)
    if len(problems) > before or fields is None:
        return None
    return Question(id=qid, module=module, topic=raw["topic"].strip(), kind=kind,
                    prompt=raw["prompt"].strip(), explanation=raw["explanation"].strip(), **fields)


def _kind_fields(kind: QuestionKind, raw: dict, problem) -> dict | None:
    answer = raw["answer"]
    if kind is QuestionKind.TRUE_FALSE:
        if not isinstance(answer, bool):
            problem("the answer of a true_false question must be true or false")
            return None
        return {"choices": TRUE_FALSE_CHOICES, "correct": frozenset({TRUE_FALSE_CHOICES[0 if answer else 1]})}
    if kind is QuestionKind.NUMERIC:
        return _numeric_fields(answer, raw.get("tolerance"), problem)
    if kind is QuestionKind.TEXT:
        accepted = answer if isinstance(answer, list) else [answer]
        if not accepted or not all(_is_text(a) for a in accepted):
            problem("the answer of a text question must be a text or a list of accepted texts")
            return None
        return {"accepted": tuple(a.strip() for a in accepted)}
    return _choice_fields(kind, raw.get("choices"), answer, problem)


def _numeric_fields(answer: Any, tolerance: Any, problem) -> dict | None:
    def is_number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    if not is_number(answer):
        problem("the answer of a numeric question must be a number")
        return None
    if tolerance is None:
        problem("a numeric question needs a 'tolerance' (0 for an exact answer)")
        return None
    if not is_number(tolerance) or tolerance < 0:
        problem(f"'tolerance' must be a non-negative number, not {tolerance!r}")
        return None
    return {"number": float(answer), "tolerance": float(tolerance)}


def _choice_fields(kind: QuestionKind, choices: Any, answer: Any, problem) -> dict | None:
    if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
        problem(f"'choices' must be a list of 2 to {MAX_CHOICES} texts")
        return None
    ok = True
    for index, choice in enumerate(choices, start=1):
        if not _is_text(choice):
            # Unquoted yes/no/1.5 become booleans or numbers in YAML; say so, it is the usual cause.
            problem(f"choice {index} must be text (YAML read {choice!r}; put it in quotes)")
            ok = False
        elif len(choice.strip()) == 1 and choice.strip().isalpha():
            problem(f"choice {index} is a single letter, which would be confused with the choice letters")
            ok = False
    if not ok:
        return None
    choices = [c.strip() for c in choices]
    if len({normalise(c) for c in choices}) != len(choices):
        problem("two choices have the same text")
        return None

    if kind is QuestionKind.SINGLE:
        if not isinstance(answer, str):
            problem("the answer of a single question must be the text of one choice")
            return None
        answers = [answer]
    else:
        if not isinstance(answer, list) or not answer:
            problem("the answer of a multiple question must be a non-empty list of choice texts "
                    "(at least one choice must be correct)")
            return None
        answers = answer
    missing = [a for a in answers if not isinstance(a, str) or a.strip() not in choices]
    if missing:
        problem(f"answer {missing[0]!r} is not one of the choices")
        return None
    if len(set(answers)) != len(answers):
        problem("the answer lists a choice twice")
        return None
    return {"choices": tuple(choices), "correct": frozenset(a.strip() for a in answers)}


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
