"""The class roster: the LMS's ids mapped to the logins that name learners' folders, with names and e-mails.

A CSV with a header; the columns are found by name, in any order, so an LMS's
own export works as it is::

    id,login,name,email
    12345,ann,Ann Lee,ann@example.edu

``id`` (also ``user id``, ``sid``, ``student id``, or Moodle's ``identifier``,
whose "Participant 1234567" is read as ``1234567``) and ``login`` (also
``username``, ``sis login id``) are needed; ``email`` lets a Gradescope
submitter without an SID be matched. A learner the roster does not list is
refused, never guessed.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError
from grader.intake.special_files import NotRegular, read_regular

MAX_BYTES = 16 * 1024 * 1024
COLUMNS = {
    "id": ("id", "user id", "userid", "sid", "student id", "identifier", "participant"),
    "login": ("login", "username", "user name", "sis login id", "login id"),
    "name": ("name", "full name", "student"),
    "email": ("email", "email address", "e-mail"),
}
_PARTICIPANT = re.compile(r"^participant\s+", re.IGNORECASE)


class RosterError(GraderError):
    """The roster cannot be read as it is (the message names its file, and its line where one is at fault)."""


@dataclass(frozen=True)
class Person:
    id: str
    login: str
    name: str = ""
    email: str = ""


@dataclass
class Roster:
    by_id: dict[str, Person] = field(default_factory=dict)
    by_email: dict[str, Person] = field(default_factory=dict)

    def find(self, learner_id: str, email: str = "") -> Person | None:
        """The person with this id, else (an id is missing or unknown) the one with this e-mail."""
        return self.by_id.get(learner_id) or (self.by_email.get(email.lower()) if email else None)


def read_roster(path: Path) -> Roster:
    """The roster at ``path``; ``RosterError`` naming the file and line of a row it cannot use."""
    path = Path(path)
    try:
        text = read_regular(path.resolve(), MAX_BYTES).decode("utf-8-sig")  # a link to it is the instructor's own
    except NotRegular:
        raise RosterError(f"{path}: not a plain file, or larger than {MAX_BYTES // 1024 ** 2} MiB") from None
    except OSError as exc:
        raise RosterError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = _columns(path, reader.fieldnames or [])
        return _people(path, reader, columns)
    except csv.Error as exc:
        raise RosterError(f"{path}, line {reader.line_num}: {exc}") from None


def _people(path: Path, reader: csv.DictReader, columns: dict[str, str | None]) -> Roster:
    roster = Roster()
    for row in reader:
        values = {key: (row.get(column) or "").strip() if column else "" for key, column in columns.items()}
        learner_id = _PARTICIPANT.sub("", values["id"])
        if not learner_id or not values["login"]:
            continue  # a Points Possible row, a teacher without a login: nobody's folder
        person = Person(learner_id, values["login"], values["name"], values["email"])
        if learner_id in roster.by_id:
            raise RosterError(f"{path}, line {reader.line_num}: id {learner_id} is listed twice")
        roster.by_id[learner_id] = person
        if person.email:
            roster.by_email.setdefault(person.email.lower(), person)
    return roster


def _columns(path: Path, header: list[str]) -> dict[str, str | None]:
    """Which of the file's columns holds each field; ``id`` and ``login`` must be there."""
    found: dict[str, str | None] = {}
    for key, names in COLUMNS.items():
        found[key] = next((column for column in header if column and column.strip().lower() in names), None)
    for key in ("id", "login"):
        if found[key] is None:
            raise RosterError(f"{path}, line 1: no {key} column (one of: {', '.join(COLUMNS[key])})")
    return found
