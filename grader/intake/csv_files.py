"""CSV files an instructor writes (submission times, rubric marks): read whole, header checked.

Each row comes with its line number, so an error can name the file, the
line and the field. A spreadsheet's byte-order mark is dropped. Columns the
header names beyond the ones read are allowed (a spreadsheet's notes); a
filled cell no column names is not. Rosters, an LMS's exports with many
columns, have their own reader (``grader.platforms.exports.roster``).
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
    columns = (*required, *optional)
    try:
        return [(reader.line_num, _cells(path, reader, row, columns)) for row in reader]
    except csv.Error as exc:
        raise CsvFileError(f"{path}, line {reader.line_num}: {exc}") from None


def _cells(path: Path, reader: csv.DictReader, row: dict, columns: Sequence[str]) -> dict[str, str]:
    """The row's cells of ``columns``, stripped. A filled cell beyond the header is refused: it belongs to no column,
    and most often a value with an unquoted comma (a reason) split and shifted the cells after it."""
    extra = row.get(None) or []
    if any(cell.strip() for cell in extra):
        width = len(reader.fieldnames or [])
        raise CsvFileError(f"{path}, line {reader.line_num}: {width + len(extra)} cells, but the header names "
                           f"{width} columns (put a value that holds a comma in double quotes)")
    return {column: (row.get(column) or "").strip() for column in columns}
