"""Collecting an LMS download into a class folder: read it safely, name each learner, place one file each, record times.

Every step refuses one entry or one learner at a time, with a reason, and
goes on with the rest: a download of a whole class is not lost to one odd
file, nor to a bug met on one entry. Collecting the same download again
writes nothing (the files and ``submissions.csv`` keep their bytes).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from grader.course.model import Exercise
from grader.intake.prepare import MAX_FILE_BYTES, MAX_TOTAL_BYTES
from grader.intake.submission_times import FILE_NAME as TIMES_FILE
from grader.intake.submission_times import SubmissionTime, write_times
from grader.platforms.exports import canvas, gradescope, moodle
from grader.platforms.exports.archive import Export, Unreadable, open_export
from grader.platforms.exports.choose import NoChoice, choose, suffix
from grader.platforms.exports.model import Collected, HandIn, Placed, Platform, Reading, Refusal
from grader.platforms.exports.place import CannotPlace, learner_folder, place
from grader.platforms.exports.roster import Roster

# What intake reads at most (grader.intake.prepare): a larger file would be refused at grading anyway.
READ_LIMITS = {".py": MAX_FILE_BYTES, ".ipynb": MAX_FILE_BYTES, ".zip": MAX_TOTAL_BYTES}


def collect(platform: Platform, exercise: Exercise, export_path: Path, root: Path,
            roster: Roster | None = None) -> Collected:
    """Place each learner's submission of ``exercise`` from the download at ``export_path`` into ``root``."""
    with open_export(export_path) as export:
        reading = read_export(platform, export, roster)
        collected = Collected(refused=[*export.refused, *reading.refused], notes=list(reading.notes))
        root.mkdir(parents=True, exist_ok=True)
        for learner, hand_in in _named(reading.hand_ins, roster, collected, root):
            try:
                collected.placed.append(_place(export, exercise, root, learner, hand_in))
            except (NoChoice, CannotPlace, Unreadable) as exc:
                collected.refused.append(Refusal(_where(hand_in), str(exc)))
            except Exception as exc:  # a bug met on one learner must not lose the class: report it and go on
                collected.refused.append(Refusal.crashed(_where(hand_in), "could not be placed", exc))
    # What the export says of when work came (a time, or only a late flag) goes where the late policy reads it.
    times = [SubmissionTime(p.learner, p.exercise, p.submitted_at, p.late)
             for p in collected.placed if p.submitted_at or p.late is not None]
    if times:
        collected.times_written = write_times(root / TIMES_FILE, times)
    return collected


def read_export(platform: Platform, export: Export, roster: Roster | None = None) -> Reading:
    """The platform's reading of the download: who handed in what, and when if it says."""
    if platform is Platform.CANVAS:
        return canvas.read(export.members, roster)
    if platform is Platform.MOODLE:
        return moodle.read(export.members)
    return gradescope.read(export)


def _named(hand_ins: list[HandIn], roster: Roster | None, collected: Collected,
           root: Path | None = None) -> list[tuple[str, HandIn]]:
    """Each hand-in with its learner's folder; a learner that cannot be named, or is named twice, is refused.

    Folder names are compared case aside (``casefold``): on a case-insensitive file system (macOS, Windows)
    ``Ann`` and ``ann`` are one folder, and the second learner placed would replace the first. Such learners
    are refused, both named, as are learners whose folder differs only in case from one already in ROOT.
    """
    by_folder: dict[str, list[HandIn]] = defaultdict(list)
    for hand_in in hand_ins:
        try:
            by_folder[learner_folder(hand_in, roster)].append(hand_in)
        except CannotPlace as exc:
            collected.refused.append(Refusal(_where(hand_in), str(exc)))
        except Exception as exc:  # a bug met on one learner: that learner's line
            collected.refused.append(Refusal.crashed(_where(hand_in), "could not be named", exc))
    by_case: dict[str, set[str]] = defaultdict(set)
    for folder in by_folder:
        by_case[folder.casefold()].add(folder)
    existing: dict[str, set[str]] = defaultdict(set)
    if root is not None and root.is_dir():
        for entry in root.iterdir():
            existing[entry.name.casefold()].add(entry.name)
    named = []
    for folder, found in sorted(by_folder.items()):
        if len(found) > 1:  # two hand-ins for one folder: whichever came last would silently win
            for hand_in in found:
                collected.refused.append(Refusal(_where(hand_in), f"{len(found)} submissions in this download "
                                                                  f"name the learner {folder}; none is placed"))
            continue
        clash = sorted((by_case[folder.casefold()] | existing[folder.casefold()]) - {folder})
        if clash:
            collected.refused.append(Refusal(_where(found[0]), f"the learner {folder} and {', '.join(clash)} differ "
                                                               "only in case: one folder on a case-insensitive file "
                                                               "system; neither is placed"))
            continue
        named.append((folder, found[0]))
    return named


def _place(export: Export, exercise: Exercise, root: Path, learner: str, hand_in: HandIn) -> Placed:
    chosen = choose(hand_in, exercise)
    kind = suffix(chosen.original)
    data = export.read(chosen.member, READ_LIMITS[kind])
    path, status = place(root, learner, exercise.id, kind, data)
    late = chosen.late if chosen.late is not None else hand_in.late
    return Placed(learner, exercise.id, path, chosen.member.name, status, hand_in.submitted_at, late)


def _where(hand_in: HandIn) -> str:
    """A hand-in as a refusal names it: its files' place in the download, else the learner's id."""
    if len(hand_in.files) == 1:
        return hand_in.files[0].member.name
    return f"learner {hand_in.learner_id or hand_in.email}" + (f" ({hand_in.display_name})"
                                                              if hand_in.display_name else "")
