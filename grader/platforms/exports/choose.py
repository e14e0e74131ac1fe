"""Which of a learner's files is their submission of the exercise: one, or a reason there is none.

Intake grades a module, a notebook or a zip (``grader.intake.discovery``), so
only those are candidates; a PDF or a screenshot beside them is not. Of
several candidates, the one named as the exercise names its files (its
module, its notebook, or the exercise's id) is chosen; when none or several
are, the learner's submission is refused rather than guessed.
"""
from __future__ import annotations

from pathlib import PurePosixPath

from grader.course.model import Exercise
from grader.intake.discovery import SUBMISSION_SUFFIXES
from grader.platforms.exports.model import HandedFile, HandIn

SHOWN = 5  # file names listed in a refusal: enough to see the problem, short enough for one line


class NoChoice(Exception):
    """None of the learner's files, or more than one, can be the submission (the message says which)."""


def suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def choose(hand_in: HandIn, exercise: Exercise) -> HandedFile:
    """The learner's one submission of ``exercise``; ``NoChoice`` with the reason when it cannot be told."""
    candidates = [f for f in hand_in.files if suffix(f.original) in SUBMISSION_SUFFIXES]
    if not candidates:
        names = _listed(f.original for f in hand_in.files) or "nothing"
        raise NoChoice(f"no .py, .ipynb or .zip file to grade (handed in: {names})")
    if len(candidates) == 1:
        return candidates[0]
    wanted = {exercise.file, f"{exercise.module_name}.ipynb", *(f"{exercise.id}{s}" for s in SUBMISSION_SUFFIXES)}
    named = [f for f in candidates if f.given_name in wanted]
    if len(named) == 1:
        return named[0]
    among = named or candidates
    raise NoChoice(f"{len(among)} candidate files ({_listed(f.original for f in among)}); cannot tell which is "
                   f"{exercise.file}: keep one in the LMS, or place it by hand")


def _listed(names) -> str:
    names = sorted(names)
    more = f", and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
