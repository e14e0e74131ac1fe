"""Placing a submission at ``ROOT/<learner>/<exercise><suffix>``, where ``grader.intake.discovery`` finds it.

A learner's folder is named by the roster's login, else by the LMS's stable
id, and only by a name that is safe as one folder (no separator, no leading
dot, none of the names the class folder uses for itself). Placing the same
bytes again changes nothing; other bytes replace the file whole (a reader
never sees half of it), and a submission of the exercise in another form
(``.ipynb`` where ``.py`` now is) is removed, since discovery would see two.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from grader.course.assignment import FILE_NAME as ASSIGNMENT_FILE
from grader.intake.discovery import RESERVED, SUBMISSION_SUFFIXES
from grader.intake.special_files import NotRegular, read_regular
from grader.intake.submission_times import FILE_NAME as TIMES_FILE
from grader.platforms.exports.model import HandIn, PlaceStatus
from grader.platforms.exports.roster import Roster

_SAFE = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,99}$")
_TAKEN = RESERVED | {ASSIGNMENT_FILE, TIMES_FILE}


class CannotPlace(Exception):
    """The submission cannot be placed (the message says why, in one line)."""


def learner_folder(hand_in: HandIn, roster: Roster | None) -> str:
    """The learner's folder: the roster's login for their id (or e-mail), else the id; ``CannotPlace`` if unsafe."""
    if roster is not None:
        person = roster.find(hand_in.learner_id, hand_in.email)
        if person is None:
            raise CannotPlace(f"learner {hand_in.learner_id or hand_in.email} is not in the roster")
        name = person.login
    elif hand_in.learner_id:
        name = hand_in.learner_id
    else:
        raise CannotPlace(f"{hand_in.email}: no student id in the download; pass a --roster that maps e-mails "
                          "to logins")
    if not _SAFE.match(name) or name in _TAKEN:
        raise CannotPlace(f"{name!r} cannot name a learner's folder (letters, digits and . _ @ + - only, "
                          f"no leading dot, not {', '.join(sorted(_TAKEN))})")
    return name


def place(root: Path, learner: str, exercise_id: str, file_suffix: str, data: bytes) -> tuple[Path, PlaceStatus]:
    """Write ``data`` as the learner's submission of the exercise; its path, and whether it is new, updated or not."""
    folder = root / learner
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise CannotPlace(f"{folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{exercise_id}{file_suffix}"
    if (folder / exercise_id).is_dir():
        raise CannotPlace(f"{folder / exercise_id}/ holds a submission as a folder; remove it to collect this one")
    status = _status(target, data)
    if status is not PlaceStatus.UNCHANGED:
        partial = folder / f".{target.name}.partial"
        partial.write_bytes(data)
        os.replace(partial, target)
    for other in SUBMISSION_SUFFIXES:
        stale = folder / f"{exercise_id}{other}"
        if other != file_suffix and (stale.is_file() or stale.is_symlink()):
            stale.unlink()  # the learner's earlier form of this exercise: discovery would see two submissions
            status = PlaceStatus.UPDATED
    return target, status


def _status(target: Path, data: bytes) -> PlaceStatus:
    if not os.path.lexists(target):
        return PlaceStatus.NEW
    try:
        same = not target.is_symlink() and read_regular(target, len(data)) == data
    except (NotRegular, OSError):
        same = False
    return PlaceStatus.UNCHANGED if same else PlaceStatus.UPDATED
