"""Canvas's "Download Submissions" zip, read into one hand-in per learner.

Canvas names each file of a learner's current submission (``ContentZipper``
in canvas-lms)::

    <sortable name>_[LATE_]<user id>_<file id>_<original name>
    smithjohn_12345_67890_placement.py
    smithjohn_LATE_12345_67891_placement-1.py

The sortable name is lower-cased with every non-word character dropped; it is
the learner's to set, ``_`` and digits included, so ``evil_98765_11111_5550001_x.py``
reads as learner 11111 (named ``evil_98765``) or as learner 98765 (named
``evil``). Every reading is found (``splits``) and a name with more than one
is refused, never guessed; with a roster that has names, the one reading's
name must also be the roster's name for that id, written as Canvas writes it.
With anonymous grading the name is left out and the id is
``anon_<anonymous id>``. ``LATE_`` is Canvas's flag on a late submission. A
learner who uploads a file with a name they used before gets ``-1``, ``-2``
added to it, so the highest number (then the highest file id: Canvas counts
them up) is the latest upload. Text entries and URLs come as
``<prefix>_text.html`` and ``<prefix>_link.html``; they are not files to
grade. The download says nothing of when each submission was handed in.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import NamedTuple

from grader.learner_text import clean
from grader.platforms.exports.model import HandedFile, HandIn, Member, Reading, Refusal
from grader.platforms.exports.roster import Roster

_ANONYMOUS_ID = r"anon_[1-9A-HJ-NP-Za-km-z]{5}"  # Canvas's anonymous ids: five base58 characters
_ANONYMOUS = re.compile(rf"^(?P<late>LATE_)?(?P<id>{_ANONYMOUS_ID})_(?P<file_id>[0-9]{{1,20}})_(?P<original>.+)$")
# What follows the sortable name: ids are ASCII digits (never another script's), bounded in length.
_AFTER_NAME = re.compile(r"^(?P<late>LATE_)?(?P<id>[0-9]{1,20})_(?P<file_id>[0-9]{1,20})_(?P<original>.+)$")
_NAME = re.compile(r"^\w*$")
_ONLINE = re.compile(rf"^(?:\w*?_)?(?:LATE_)?(?:[0-9]+|{_ANONYMOUS_ID})_(?:text|link)\.html$")
_RESUBMITTED = re.compile(r"^(?P<stem>.*?)-(?P<number>[0-9]{1,9})$")
NAMING = "<name>_[LATE_]<user id>_<file id>_<file name>"


class Split(NamedTuple):
    """One way to read a Canvas file name."""

    name: str
    late: bool
    id: str
    file_id: int
    original: str


def splits(basename: str) -> list[Split]:
    """Every way ``basename`` reads as ``<name>_[LATE_]<id>_<file id>_<original>`` (the name may be empty).

    A sortable name is the learner's to choose, so ``evil_98765_11111_5550001_x.py`` reads both as learner
    11111 (named ``evil_98765``) and as learner 98765 (named ``evil``): the caller refuses a name read more than
    one way. Two readings that differ only in where ``LATE_`` sits are one reading, the late one.
    """
    found: dict[tuple[str, int, str], Split] = {}
    starts = [0] + [i + 1 for i, c in enumerate(basename) if c == "_"]
    for start in starts:
        name = basename[:max(start - 1, 0)]
        if not _NAME.match(name):
            continue
        match = _AFTER_NAME.match(basename[start:])
        if match is None:
            continue
        split = Split(name, bool(match["late"]), match["id"], int(match["file_id"]), match["original"])
        key = (split.id, split.file_id, split.original)
        if key not in found or split.late:
            found[key] = split
    return list(found.values())


def canvas_name(name: str) -> set[str]:
    """How Canvas may write a roster name in file names: lower-cased, non-word characters dropped (by Ruby's
    ASCII ``\\w`` or by a Unicode one: either is accepted)."""
    forms = {name.lower()}
    if "," not in name:  # "Ann Lee" where Canvas's sortable name is "Lee, Ann"
        forms.add(" ".join(reversed(name.split())).lower())
    return {re.sub(pattern, "", form) for form in forms for pattern in (r"[^\w]", r"[^a-z0-9_]")}


def read(members: list[Member], roster: Roster | None = None) -> Reading:
    """Each learner's latest upload of each file, by Canvas user id; names that are not Canvas's are refused.

    Anonymous ids (``anon_xxxxx``) are read as such only when every file of the download is named that way:
    in a download with names, ``anon_abcde`` is a sortable name a learner can choose. A name that reads as
    more than one learner is refused; with a roster that has names, a name that is not the roster's name for
    its id (as Canvas writes it) is refused. An id the roster lacks is left to the roster's own refusal.
    """
    reading = Reading(has_times=False)
    by_learner: dict[str, list[tuple[int, HandedFile]]] = defaultdict(list)
    names: dict[str, str] = {}
    files = []
    for member in members:
        if _ONLINE.match(member.basename):
            reading.refused.append(Refusal(member.name, "a text entry or URL submitted online, not a file to grade"))
        else:
            files.append(member)
    anonymous = bool(files) and all(_ANONYMOUS.match(m.basename) for m in files)
    named_roster = roster is not None and any(p.name for p in roster.by_id.values())
    for member in files:
        try:
            found = _reading(member, anonymous, roster if named_roster else None)
        except _Refused as exc:
            reading.refused.append(Refusal(member.name, str(exc)))
            continue
        except Exception as exc:  # a bug met on one entry: that entry's line, not the class's collect
            reading.refused.append(Refusal.crashed(member.name, "could not be read", exc))
            continue
        names.setdefault(found.id, found.name)
        handed = HandedFile(found.original, member, late=found.late, unnumbered=unnumbered(found.original)[0])
        by_learner[found.id].append((found.file_id, handed))
    for learner, handed_files in sorted(by_learner.items()):
        latest = _latest_uploads(handed_files)
        late = any(f.late for f in latest)
        reading.hand_ins.append(HandIn(learner, names[learner], files=latest, late=late))
    if reading.hand_ins:
        reading.notes.append("Canvas's download records no submission times, only LATE_: submissions.csv gets "
                             "late=yes or no without a time (add the times there for the late policy to count days)")
    return reading


class _Refused(Exception):
    """This file name cannot be read as one learner's (the message says why)."""


def _reading(member: Member, anonymous: bool, roster: Roster | None) -> Split:
    found = splits(member.basename)
    if anonymous:
        match = _ANONYMOUS.match(member.basename)
        if found:
            raise _Refused(f"reads both as the anonymous {match['id']} and as learner "
                           f"{', '.join(sorted({s.id for s in found}))}; refused rather than guessed: place it by hand")
        return Split("", bool(match["late"]), match["id"], int(match["file_id"]), match["original"])
    if not found:
        why = (" (an anonymous id in a download with names: anonymous ids are read only when every file is "
               "anonymous)" if _ANONYMOUS.match(member.basename) else "")
        raise _Refused(f"not named as Canvas names submissions ({NAMING}){why}")
    if len(found) > 1:
        readings = "; ".join(f"learner {s.id} named {s.name or '(none)'}" for s in found)
        raise _Refused(f"reads as more than one learner ({readings}); a name that can be read two ways is "
                       "refused rather than guessed: place the file by hand")
    split = found[0]
    if roster is not None:
        person = roster.by_id.get(split.id)
        if person is not None and person.name and split.name not in canvas_name(person.name):
            raise _Refused(f"named {split.name or '(none)'}, but the roster names learner {split.id} "
                           f"{clean(person.name, 80)}; not placed")
    return split
def _latest_uploads(files: list[tuple[int, HandedFile]]) -> list[HandedFile]:
    """One file per original name: ``placement-2.py`` over ``placement-1.py`` over ``placement.py``."""
    best: dict[str, tuple[int, int, HandedFile]] = {}
    for file_id, handed in files:
        base, number = handed.unnumbered, unnumbered(handed.original)[1]
        rank = (number, file_id, handed)
        if base not in best or rank[:2] > best[base][:2]:
            best[base] = rank
    return [best[base][2] for base in sorted(best)]


def unnumbered(original: str) -> tuple[str, int]:
    """The name before Canvas numbered it, and the number (0 for the first upload): ``a-2.py`` -> (``a.py``, 2)."""
    stem, dot, suffix = original.rpartition(".")
    if not dot:
        stem, suffix = original, ""
    match = _RESUBMITTED.match(stem)
    if match is None:
        return original, 0
    return match["stem"] + (f".{suffix}" if dot else ""), int(match["number"])
