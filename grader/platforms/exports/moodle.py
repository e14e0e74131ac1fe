"""Moodle's "Download all submissions" zip, read into one hand-in per learner.

Moodle (``mod/assign``) gives each learner a folder per submission plugin,
named ``<Full Name>_<participant id>_assignsubmission_<plugin>``; Moodle 3.x
added a trailing ``_``. The files keep the names and subfolders the learner
gave them::

    Ann Lee_1234567_assignsubmission_file/placement.py
    Ann Lee_1234567_assignsubmission_onlinetext/onlinetext.html

With "download submissions in folders" off, the same prefix is joined to each
file's name instead: ``Ann Lee_1234567_assignsubmission_file_placement.py``.
Moodle writes no ``_`` in a full name (it turns them into spaces), so the
*first* ``_<digits>_assignsubmission_`` ends the name; what follows is the
learner's own file name, which may hold anything, that mark included: in
``Eve Vil_1_assignsubmission_file_x_2_assignsubmission_file_a.py`` the learner
is 1, never 2. A name with a ``_`` before its id, or a flat name holding the
mark twice (as that one does), is refused as ambiguous rather than read one
way. The participant id is Moodle's per-assignment number for the learner
(the grading worksheet's "Participant 1234567"), not their account: a roster
maps it to a login. The download says nothing of when each submission
was handed in.
"""
from __future__ import annotations

import re

from grader.platforms.exports.model import HandedFile, HandIn, Member, Reading, Refusal

_FOLDER = re.compile(r"^(?P<name>.*?)_(?P<id>[0-9]{1,20})_assignsubmission_(?P<plugin>[a-z0-9]+)_?$")
_FLAT = re.compile(r"^(?P<name>.*?)_(?P<id>[0-9]{1,20})_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<original>.+)$")
_MARK = re.compile(r"_[0-9]+_assignsubmission_")
NAMING = "<Full Name>_<participant id>_assignsubmission_file/<file>"


def read(members: list[Member]) -> Reading:
    """Each learner's uploaded files, by participant id; online text and names that are not Moodle's are refused."""
    reading = Reading(has_times=False)
    hand_ins: dict[str, HandIn] = {}
    for member in members:
        try:
            found = _learner_file(member)
        except _Ambiguous as exc:
            reading.refused.append(Refusal(member.name, str(exc)))
            continue
        except Exception as exc:  # a bug met on one entry: that entry's line, not the class's collect
            reading.refused.append(Refusal.crashed(member.name, "could not be read", exc))
            continue
        if found is None:
            reading.refused.append(Refusal(member.name, f"not laid out as Moodle lays out submissions ({NAMING})"))
            continue
        learner, name, plugin, original = found
        if plugin != "file":
            reading.refused.append(Refusal(member.name, f"typed into Moodle ({plugin}), not a file to grade"))
            continue
        hand_in = hand_ins.setdefault(learner, HandIn(learner, name))
        hand_in.files.append(HandedFile(original, member))
    reading.hand_ins = [hand_ins[learner] for learner in sorted(hand_ins)]
    if reading.hand_ins:
        reading.notes.append("Moodle's download records no submission times: submissions.csv is left as it is")
        reading.notes.append("Moodle's participant ids are per assignment: a --roster keeps each learner's folder "
                             "the same across exercises")
    return reading


class _Ambiguous(Exception):
    """A name Moodle would not write, that could be read as more than one learner's."""


def _learner_file(member: Member) -> tuple[str, str, str, str] | None:
    """(participant id, full name, plugin, the file's own path) for a member in Moodle's layout, else None.

    The learner's folder may sit one level down, when the download was unpacked into a folder of its own.
    """
    parts = member.name.split("/")
    for depth, part in enumerate(parts[:2]):
        rest = "/".join(parts[depth + 1:])
        folder = _FOLDER.match(part)
        if folder and rest:
            _unambiguous(folder["name"], part)
            return folder["id"], folder["name"], folder["plugin"], rest
        flat = _FLAT.match(part)
        if flat and not rest:
            _unambiguous(flat["name"], part)
            return flat["id"], flat["name"], flat["plugin"], flat["original"]
    return None


def _unambiguous(name: str, part: str) -> None:
    if "_" in name:
        raise _Ambiguous("has a _ in the full name, which Moodle never writes; it could name more than one "
                         "learner, so it is not read")
    if len(_MARK.findall(part)) > 1:
        raise _Ambiguous("holds _<id>_assignsubmission_ more than once; it could name more than one learner, "
                         "so it is not read")
