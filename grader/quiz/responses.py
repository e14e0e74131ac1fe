"""Reading what a learner typed (or wrote in an answers file) as an answer to one question.

Raw answers are text, or lists of text for multiple select. Letters refer to the choices as
presented; choice text is accepted too, compared without regard to case or spacing.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

from grader.quiz.errors import AnswerError
from grader.quiz.model import QuestionKind, format_number
from grader.quiz.schema import normalise
from grader.quiz.selection import LETTERS, Presented

RawAnswer = Union[str, list]

TRUE_WORDS = {"true", "t", "yes", "y"}
FALSE_WORDS = {"false", "f", "no", "n"}
_SEVERAL_LETTERS = re.compile(r"[A-Za-z](\s*[,;\s]\s*[A-Za-z])+")


@dataclass(frozen=True)
class Response:
    """An answer that was understood: chosen choice texts, a number, or a text."""

    chosen: frozenset[str] = frozenset()
    number: float | None = None
    text: str | None = None
    shown: str = ""  # the answer as echoed back to the learner
    short: str = ""  # the same, letters only for choices (for tables)

    def is_correct(self, presented: Presented) -> bool:
        q = presented.question
        if q.kind is QuestionKind.NUMERIC:
            # A little slack for binary floating point, so 0.1 + 0.2 style answers are not refused.
            slack = q.tolerance + 1e-9 * max(1.0, abs(q.number))
            return abs(self.number - q.number) <= slack
        if q.kind is QuestionKind.TEXT:
            return text_matches(self.text, q.accepted)
        return self.chosen == q.correct


# Wrapping a learner may add around a word: quotes, code backticks, a shell's `$`, a closing full stop.
_WRAPPERS = "\"'`‘’“”"
_TRAILING_PUNCTUATION = ".,;:!?"
# A call is a name directly followed by parentheses: prefetch() or prefetch(tf.data.AUTOTUNE).
_TRAILING_CALL = re.compile(r"(?<=\w)\([^()]*\)$")
# Only identifiers count as a dotted name (tf.data.Dataset.prefetch -> prefetch), so 3.5 stays 3.5.
_DOTTED_NAME = re.compile(r"(?:[^\W\d]\w*)?(?:\.[^\W\d]\w*)*\.([^\W\d]\w*)")  # also .prefetch


def text_key(text: str) -> str:
    """The form a short-text answer is compared in; the bank's accepted answers go through it too.

    Case, spacing, hyphens, surrounding quotes or backticks, trailing punctuation, a trailing
    call such as ``()`` and the qualifier of a dotted name do not change what was meant, so
    ``"desserts".``, `` `TF_CONFIG` `` and ``ds.prefetch()`` read as desserts, tf_config, prefetch.
    """
    key = normalise(text)
    previous = None
    while key != previous:  # peel layers in any order: `"prefetch()".` has three
        previous = key
        key = key.strip(_WRAPPERS + " ").lstrip("$").rstrip(_TRAILING_PUNCTUATION + " ")
        key = _TRAILING_CALL.sub("", key)
        dotted = _DOTTED_NAME.fullmatch(key)
        if dotted:
            key = dotted.group(1)
    return " ".join(key.replace("-", " ").split())


def text_matches(text: str, accepted: tuple[str, ...]) -> bool:
    """Whether a short-text answer says one of the accepted answers (see ``text_key``)."""
    key = text_key(text)
    return bool(key) and key in {text_key(a) for a in accepted}


def is_blank(raw: RawAnswer | None) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list):
        return not raw or all(isinstance(r, str) and not r.strip() for r in raw)
    return False


def interpret(presented: Presented, raw: RawAnswer) -> Response:
    """Understand ``raw`` for this question, or raise ``AnswerError`` saying what was expected."""
    kind = presented.question.kind
    if isinstance(raw, dict):
        raise AnswerError(f"expected {hint(presented)}, got a mapping")
    if kind is QuestionKind.MULTIPLE:
        return _choices(presented, _multiple_parts(presented, raw))
    if isinstance(raw, list):
        if len(raw) != 1:
            raise AnswerError(f"give one answer only ({hint(presented)})")
        raw = raw[0]
    if not isinstance(raw, str):
        raise AnswerError(f"expected {hint(presented)}")
    text = raw.strip()
    if kind is QuestionKind.NUMERIC:
        return _number(text)
    if kind is QuestionKind.TEXT:
        return Response(text=text, shown=text, short=text)
    if kind is QuestionKind.TRUE_FALSE and text.casefold() in TRUE_WORDS | FALSE_WORDS:
        text = "True" if text.casefold() in TRUE_WORDS else "False"
    if _SEVERAL_LETTERS.fullmatch(text) and not _choice_by_text(presented, text):
        raise AnswerError(f"pick one choice only ({hint(presented)})")
    return _choices(presented, [text])


def hint(presented: Presented) -> str:
    """What kind of answer the question wants, in words."""
    kind = presented.question.kind
    last = LETTERS[len(presented.choices) - 1]
    letters = f"A or {last}" if last == "B" else f"A to {last}"
    if kind is QuestionKind.SINGLE:
        return f"one letter, {letters}"
    if kind is QuestionKind.MULTIPLE:
        return f"one or more letters from {letters}, separated by commas (e.g. A, C)"
    if kind is QuestionKind.TRUE_FALSE:
        return "true or false (or A / B)"
    if kind is QuestionKind.NUMERIC:
        return "a number"
    return "a word or short phrase"


def _multiple_parts(presented: Presented, raw: RawAnswer) -> list[str]:
    if isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise AnswerError(f"expected {hint(presented)}")
        return [item.strip() for item in raw if item.strip()]
    if not isinstance(raw, str):
        raise AnswerError(f"expected {hint(presented)}")
    text = raw.strip()
    if _choice_by_text(presented, text):
        return [text]
    parts = [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    if len(parts) == 1:
        tokens = parts[0].split()
        if len(tokens) > 1 and all(len(t) == 1 for t in tokens):
            return tokens  # "A C"
        if " " not in parts[0] and parts[0].isalpha() and len(parts[0]) <= len(presented.choices):
            return list(parts[0])  # "AC"
    return parts


def _choices(presented: Presented, parts: list[str]) -> Response:
    if not parts:
        raise AnswerError(f"expected {hint(presented)}")
    chosen: list[str] = []
    for part in parts:
        choice = _choice_by_letter(presented, part) or _choice_by_text(presented, part)
        if choice is None:
            raise AnswerError(_unknown_choice(presented, part))
        if choice not in chosen:
            chosen.append(choice)
    if presented.question.kind is not QuestionKind.MULTIPLE and len(chosen) > 1:
        raise AnswerError(f"pick one choice only ({hint(presented)})")
    ordered = [c for c in presented.choices if c in chosen]
    shown = ", ".join(f"{presented.letter(c)}) {c}" for c in ordered)
    short = ", ".join(presented.letter(c) for c in ordered)
    return Response(chosen=frozenset(chosen), shown=shown, short=short)


def _choice_by_letter(presented: Presented, part: str) -> str | None:
    if len(part) == 1 and part.isalpha():
        index = LETTERS.find(part.upper())
        if 0 <= index < len(presented.choices):
            return presented.choices[index]
    return None


def _choice_by_text(presented: Presented, part: str) -> str | None:
    wanted = normalise(part)
    return next((c for c in presented.choices if normalise(c) == wanted), None)


def _unknown_choice(presented: Presented, part: str) -> str:
    if presented.question.kind is QuestionKind.TRUE_FALSE:
        return f"{part!r} is not true or false (nor A or B)"
    last = LETTERS[len(presented.choices) - 1]
    if len(part) == 1 and part.isalpha():
        return f"{part.upper()!r} is not a choice here: the letters go from A to {last}"
    shortened = part if len(part) <= 40 else part[:37] + "..."
    return f"{shortened!r} is neither a letter from A to {last} nor the text of a choice"


def _number(text: str) -> Response:
    cleaned = text.replace("_", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise AnswerError(f"{text!r} is not a number (write it like 256 or 0.25)") from None
    if not math.isfinite(value):
        raise AnswerError(f"{text!r} is not a finite number")
    return Response(number=value, shown=format_number(value), short=format_number(value))
