"""What collecting an LMS download deals in: the platforms, a file of the export, one learner's hand-in, the outcome.

Names and texts that come from the export (file names, learners' display
names) are learner-made: they reach the console only through
``grader.learner_text.for_console``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from grader.learner_text import clean


class Platform(Enum):
    """The LMSs whose bulk downloads ``hml collect`` reads."""

    CANVAS = "canvas"
    MOODLE = "moodle"
    GRADESCOPE = "gradescope"


@dataclass(frozen=True)
class Member:
    """One plain file of the export: its path inside it ('/'-separated), and its size as the export declares it."""

    name: str
    size: int

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Refusal:
    """Something of the export that was not placed, and why, in one line."""

    name: str
    reason: str

    @classmethod
    def crashed(cls, name: str, what: str, exc: Exception) -> "Refusal":
        """A bug met on one entry: that entry's line, never the end of the class's collect."""
        return cls(name, f"{what} ({type(exc).__name__}: {clean(exc, 200)})")


@dataclass(frozen=True)
class HandedFile:
    """One file a learner handed in: the name they gave it (within their submission) and where the export keeps it."""

    original: str
    member: Member
    late: bool | None = None  # Canvas marks each file of a late submission
    unnumbered: str = ""      # the name before the LMS numbered a re-upload (Canvas's ``-1``), if it did

    @property
    def given_name(self) -> str:
        """The file's own name as the learner gave it, folders and the LMS's numbering left out."""
        return (self.unnumbered or self.original).rsplit("/", 1)[-1]


@dataclass
class HandIn:
    """What one learner handed in, as the export tells it."""

    learner_id: str                   # the platform's stable id: Canvas user id, Moodle participant id, Gradescope SID
    display_name: str = ""            # learner-made
    email: str = ""
    files: list[HandedFile] = field(default_factory=list)
    submitted_at: datetime | None = None  # with its zone; None when the export does not say
    late: bool | None = None          # the platform's own flag, where it has one


@dataclass
class Reading:
    """A platform's reading of an export: the hand-ins it found, what it could not read, and notes for the report."""

    hand_ins: list[HandIn] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    has_times: bool = False  # whether the export records when each submission was handed in
    notes: list[str] = field(default_factory=list)


class PlaceStatus(Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Placed:
    """A submission now at ``ROOT/<learner>/<exercise><suffix>``."""

    learner: str
    exercise: str
    path: Path
    source: str             # the export's member it came from (learner-made)
    status: PlaceStatus
    submitted_at: datetime | None = None
    late: bool | None = None


@dataclass
class Collected:
    """What one ``hml collect`` did."""

    placed: list[Placed] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    times_written: bool | None = None  # None: the export has no times, and submissions.csv was left alone
    notes: list[str] = field(default_factory=list)

    def count(self, status: PlaceStatus) -> int:
        return sum(p.status is status for p in self.placed)
