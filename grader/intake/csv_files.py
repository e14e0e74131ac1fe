"""CSV files an instructor writes (submission times, rubric marks, rosters): read whole, header checked.

Each row comes with its line number, so an error can name the file, the
line and the field. A spreadsheet's byte-order mark is dropped.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from grader.errors import GraderError

MAX_BYTES = 64 * 1024 * 1024  # a class of 100,000 rows is under 10 MB


class CsvFileError(GraderError):
    """A CSV file that cannot be read as it is (it names its line)."""


def read_rows(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` for each row of ``path``, its cells stripped; the header must name every ``required`` column."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CsvFileError(f"{path}: larger than {MAX_BYTES // 2**20} MB; is it the right file?")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvFileError(f"{path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        also = f", and may name {', '.join(optional)}" if optional else ""
        raise CsvFileError(f"{path}, line 1: no column {missing[0]!r} (the header must name "
                           f"{', '.join(required)}{also})")
    try:
        return [(reader.line_num, {column: (row.get(column) or "").strip() for column in (*required, *optional)})
                for row in reader]
    except csv.Error as exc:
        raise CsvFileError(f"{path}, line {reader.line_num}: {exc}") from None
