"""Canvas's "Download Submissions" zip, read into one hand-in per learner.

Canvas names each file of a learner's current submission (``ContentZipper``
in canvas-lms)::

    <sortable name>_[LATE_]<user id>_<file id>_<original name>
    smithjohn_12345_67890_placement.py
    smithjohn_LATE_12345_67891_placement-1.py

The sortable name is lower-cased with every non-word character dropped, and
Canvas removes any ``_<digits>_`` from it, so the first ``_[LATE_]<digits>_<digits>_``
ends the name. With anonymous grading the name is left out and the id is
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

from grader.platforms.exports.model import HandedFile, HandIn, Member, Reading, Refusal

_ANONYMOUS_ID = r"anon_[1-9A-HJ-NP-Za-km-z]{5}"  # Canvas's anonymous ids: five base58 characters
_ANONYMOUS = re.compile(rf"^(?P<late>LATE_)?(?P<id>{_ANONYMOUS_ID})_(?P<file_id>\d+)_(?P<original>.+)$")
_NAMED = re.compile(r"^(?:(?P<name>\w*?)_)?(?P<late>LATE_)?(?P<id>\d+)_(?P<file_id>\d+)_(?P<original>.+)$")
_ONLINE = re.compile(rf"^(?:\w*?_)?(?:LATE_)?(?:\d+|{_ANONYMOUS_ID})_(?:text|link)\.html$")
_RESUBMITTED = re.compile(r"^(?P<stem>.*?)-(?P<number>\d+)$")
NAMING = "<name>_[LATE_]<user id>_<file id>_<file name>"


def read(members: list[Member]) -> Reading:
    """Each learner's latest upload of each file, by Canvas user id; names that are not Canvas's are refused."""
    reading = Reading(has_times=False)
    by_learner: dict[str, list[tuple[int, HandedFile]]] = defaultdict(list)
    names: dict[str, str] = {}
    for member in members:
        if _ONLINE.match(member.basename):
            reading.refused.append(Refusal(member.name, "a text entry or URL submitted online, not a file to grade"))
            continue
        match = _ANONYMOUS.match(member.basename) or _NAMED.match(member.basename)
        if match is None:
            reading.refused.append(Refusal(member.name, f"not named as Canvas names submissions ({NAMING})"))
            continue
        learner = match["id"]
        names.setdefault(learner, match.groupdict().get("name") or "")
        original = match["original"]
        handed = HandedFile(original, member, late=bool(match["late"]), unnumbered=unnumbered(original)[0])
        by_learner[learner].append((int(match["file_id"]), handed))
    for learner, files in sorted(by_learner.items()):
        latest = _latest_uploads(files)
        late = any(f.late for f in latest)
        reading.hand_ins.append(HandIn(learner, names[learner], files=latest, late=late))
    if reading.hand_ins:
        reading.notes.append("Canvas's download records no submission times, only LATE_: submissions.csv gets "
                             "late=yes or no without a time (add the times there for the late policy to count days)")
    return reading


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
