"""When each submission was handed in: ``ROOT/submissions.csv``, never the learner's own files.

The file is written by the instructor, or by ``hml collect`` from an LMS's
export::

    learner,exercise,submitted_at,late
    ann,hybrid_placement,2026-12-02T08:15:00Z,
    bo,hybrid_placement,,yes

Every time carries its zone. A learner's file dates or notebook metadata
would be the learner's claim; the LMS's record is the platform's. ``late``
(optional: ``yes``, ``no`` or empty) is the LMS's own flag, for an export
that marks late work without saying when it came (Canvas's ``LATE_``): such
a row may leave ``submitted_at`` empty. A submission without a time is
counted on time and flagged, as "late by the LMS" when the LMS says so.
Times are kept to the second.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from grader.course.deadlines import DeadlineError, aware
from grader.errors import GraderError
from grader.intake.csv_files import CsvFileError, read_rows

FILE_NAME = "submissions.csv"
COLUMNS = ("learner", "exercise", "submitted_at")
LATE = "late"
_FLAGS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False, "": None}


class SubmissionTimesError(GraderError):
    """The submission times file cannot be read as it is (it names its line and field)."""


@dataclass(frozen=True)
class SubmissionTime:
    learner: str
    exercise: str
    submitted_at: datetime | None  # with its zone, to the second; None: the LMS gave no time
    late: bool | None = None       # the LMS's own flag, where it has one

    def __post_init__(self) -> None:
        if self.submitted_at is not None and self.submitted_at.microsecond:
            object.__setattr__(self, "submitted_at", self.submitted_at.replace(microsecond=0))

    @property
    def key(self) -> tuple[str, str]:
        return self.learner, self.exercise


def times_file(root: Path) -> Path | None:
    """The class folder's submission times, if it has them."""
    path = Path(root) / FILE_NAME
    return path if path.is_file() else None


def read_times(path: Path) -> dict[tuple[str, str], SubmissionTime]:
    """Every row of ``path``, by (learner, exercise); a bad row is an error naming its line and field."""
    try:
        rows = read_rows(path, COLUMNS, (LATE,))
    except CsvFileError as exc:
        raise SubmissionTimesError(str(exc)) from None
    times: dict[tuple[str, str], SubmissionTime] = {}
    for line, row in rows:
        where = f"{path}, line {line}"
        for column in ("learner", "exercise"):
            if not row[column]:
                raise SubmissionTimesError(f"{where}, {column}: empty")
        if row[LATE].lower() not in _FLAGS:
            raise SubmissionTimesError(f"{where}, late: {row[LATE]!r} is not yes, no or empty")
        late = _FLAGS[row[LATE].lower()]
        try:
            when = aware(row["submitted_at"], "submitted_at") if row["submitted_at"] or late is None else None
        except DeadlineError as exc:
            raise SubmissionTimesError(f"{where}, {exc}") from None
        key = (row["learner"], row["exercise"])
        if key in times:
            raise SubmissionTimesError(f"{where}: {'/'.join(key)} is listed twice; keep the time of the submission "
                                       f"in ROOT")
        times[key] = SubmissionTime(*key, when, late)
    return times


def write_times(path: Path, times: Iterable[SubmissionTime]) -> bool:
    """Merge ``times`` into ``path`` (a new time for a listed submission replaces it); False when nothing changed.

    A new row without a time (an export that only flags late work, as Canvas's does) never erases a time
    already there, which the instructor may have added by hand: it keeps that ``submitted_at`` and updates
    only ``late``. The rows are sorted and the times written in UTC, so collecting the same export again
    leaves the file as it was, byte for byte (and unwritten).
    """
    path = Path(path)
    merged = read_times(path) if path.is_file() else {}
    before = dict(merged)
    for time in times:
        known = merged.get(time.key)
        if time.submitted_at is None and known is not None and known.submitted_at is not None:
            time = SubmissionTime(time.learner, time.exercise, known.submitted_at, time.late)
        merged[time.key] = time
    if merged == before and path.is_file():
        return False
    rows = [(*COLUMNS, LATE), *((t.learner, t.exercise, utc_text(t.submitted_at) if t.submitted_at else "",
                                 {True: "yes", False: "no", None: ""}[t.late]) for _, t in sorted(merged.items()))]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(out.getvalue(), encoding="utf-8")
    partial.replace(path)  # a reader never sees half a file
    return True


def utc_text(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
