"""Text that came from learner code, made safe for everything downstream.

Feedback, exception messages and names reach the gradebook (SQLite), the
reports (HTML), JUnit XML, CSV files and the console. A learner controls
that text, so before any of them sees it, it is bounded and cleaned: lone
surrogates (which no UTF-8 encoder accepts) are escaped, control characters
other than newlines and tabs (terminal escapes included) are dropped, and
runs of digits too long to mean anything are cut.

Two outputs need more than that, each decided here once: a console line
(``for_console``: every control character shown as an escape, rich markup
escaped, one line) and a CSV cell (``csv_cell``, ``csv_text``: no cell a
spreadsheet would run as a formula).
"""
from __future__ import annotations

import re
from typing import Iterable

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


# Shown as escapes on the console rather than obeyed: C0 and C1 controls (newline, carriage return, ESC and
# CSI included: a name could clear the screen or move the cursor up to overwrite another learner's line),
# DEL, the line and paragraph separators, and the bidirectional overrides that make a terminal draw text in
# another order than it is written.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def for_console(text: object, limit: int = 200) -> str:
    """Learner text as rich markup that prints as itself, on one line of at most ``limit`` characters.

    ``\\x1b[2J`` prints as those seven characters instead of clearing the screen, and ``[bold]`` as itself.
    """
    from rich.markup import escape

    if not isinstance(text, str):
        text = str(text)
    text = text[:4 * limit].encode("utf-8", "backslashreplace").decode("utf-8")
    text = _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    return escape(shorten(text, limit))  # cut first: an escape cut in half would no longer escape


# What a spreadsheet (Excel, LibreOffice, Google Sheets) reads as the start of a formula, or strips before
# reading one (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One CSV cell that a spreadsheet shows as written and never runs.

    A number (int or float) is written as a number (``-2`` stays ``-2``); text starting like a formula gets
    a leading ``'``, so that a spreadsheet reads it as text (``'=1+1``); ``None`` is an empty cell.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV (a line each, ending ``\\n``), every cell through ``csv_cell``: every CSV the grader writes.

    Every text cell is quoted, numbers never are: a spreadsheet that splits on ``;`` or tab (as Excel does in
    many locales) still reads ``bob;=cmd|...`` as one cell, whose start ``csv_cell`` has already checked, and a
    carriage return inside a cell cannot start a row of its own.
    """
    lines = []
    for row in rows:
        cells = []
        for value in row:
            cell = csv_cell(value)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(cell if numeric else '"' + cell.replace('"', '""') + '"')
        lines.append(",".join(cells) + "\n")
    return "".join(lines)
