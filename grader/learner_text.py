"""Text that came from learner code, made safe for everything downstream.

Feedback, exception messages and names reach the gradebook (SQLite), the
reports (HTML), JUnit XML, CSV files and the console. A learner controls
that text, so before any of them sees it, it is bounded and cleaned: lone
surrogates (which no UTF-8 encoder accepts) are escaped, control characters
other than newlines and tabs (terminal escapes included) are dropped, and
runs of digits too long to mean anything are cut.
"""
from __future__ import annotations

import re

MAX_TEXT = 8000
MAX_DIGITS = 40
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LONG_DIGITS = re.compile(r"\d{%d,}" % (MAX_DIGITS + 1))
ELLIPSIS = "…"


def clean(text: object, limit: int = MAX_TEXT) -> str:
    """``text`` as a string that encodes as UTF-8, holds no control characters and is at most ``limit`` long."""
    if not isinstance(text, str):
        text = str(text)
    if len(text) > 4 * limit:
        text = text[:4 * limit]  # bound the work below before doing it
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    text = _LONG_DIGITS.sub(lambda m: m.group(0)[:MAX_DIGITS // 2] + ELLIPSIS, text)
    return shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[:max(limit - 1, 0)] + ELLIPSIS
