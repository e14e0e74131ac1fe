"""A class on disk: ``ROOT/<learner>/<exercise>[.py|.ipynb|.zip|/]``, and what cannot be graded, with why."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from grader.course.assignment import FILE_NAME as ASSIGNMENT_FILE
from grader.intake.submission_times import FILE_NAME as TIMES_FILE
from grader.course.model import Course, Exercise
from grader.errors import GraderError
from grader.learner_text import MAX_DIGITS, clean

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
MAX_LEARNER_NAME = 200  # what the gradebook keeps of a name (grader.record.gradebook)
# Names the output directory uses for itself: a learner folder may not take them.
RESERVED = {"report", "gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm"}


class NoSubmissions(GraderError):
    """Nothing under the class folder is laid out as a submission."""


@dataclass
class Entry:
    learner: str
    exercise: Exercise
    path: Path


@dataclass
class Discovery:
    entries: list[Entry] = field(default_factory=list)
    # What was found but cannot be graded, and why: plain text naming the learners' own folders and files,
    # so it reaches a console only through grader.learner_text.for_console.
    problems: list[str] = field(default_factory=list)


def discover_class(root: Path, course: Course, only: Iterable[str] = (), output_dir: Path | None = None) -> Discovery:
    """Find ``ROOT/<learner>/<exercise>`` submissions: a module, a notebook, a folder or a zip.

    ``output_dir``, when it lies inside ROOT, is the grader's own and never a learner; nor is
    any folder holding a gradebook (an earlier run's output).
    """
    found = Discovery()
    known = set(course.exercise_ids())
    only = set(only)
    exercises: dict[str, Exercise] = {}
    own = output_dir.resolve() if output_dir is not None else None
    folders = sorted(root.iterdir())
    recorded = {folder.name: clean(folder.name, MAX_LEARNER_NAME) for folder in folders}
    merged = {name for name in recorded.values() if list(recorded.values()).count(name) > 1}
    for learner_dir in folders:
        if learner_dir.resolve() == own or (learner_dir / "gradebook.sqlite").is_file() \
                or learner_dir.name in (ASSIGNMENT_FILE, TIMES_FILE):
            continue
        if learner_dir.name.startswith(".") or not learner_dir.is_dir() or learner_dir.is_symlink():
            if not learner_dir.name.startswith("."):
                found.problems.append(f"{learner_dir.name}: not a learner folder (expected ROOT/<learner>/<exercise>)")
            continue
        if recorded[learner_dir.name] in merged:
            # The gradebook keeps names cleaned and bounded: folders that clean alike would share one record.
            others = sorted(n for n, r in recorded.items() if r == recorded[learner_dir.name] and n != learner_dir.name)
            found.problems.append(f"{learner_dir.name}: the gradebook would record this learner as it records "
                                  f"{', '.join(others)} (names are kept without control characters, at most "
                                  f"{MAX_LEARNER_NAME} characters, digit runs at most {MAX_DIGITS}); rename the folders")
            continue
        if learner_dir.name in RESERVED:
            found.problems.append(f"{learner_dir.name}: this learner name is reserved for the grader's output; "
                                  "rename the folder")
            continue
        by_exercise: dict[str, list[Path]] = defaultdict(list)
        for item in sorted(learner_dir.iterdir()):
            if item.name.startswith("."):
                continue
            exercise_id = item.name if item.is_dir() else item.stem if item.suffix in SUBMISSION_SUFFIXES else None
            if exercise_id not in known:
                found.problems.append(f"{learner_dir.name}/{item.name}: not a submission of a known exercise "
                                      f"(name it <exercise>, <exercise>.zip, .ipynb or .py)")
                continue
            by_exercise[exercise_id].append(item)
        for exercise_id, items in sorted(by_exercise.items()):
            if only and exercise_id not in only:
                continue
            if len(items) > 1:
                found.problems.append(f"{learner_dir.name}: {len(items)} submissions of {exercise_id} "
                                      f"({', '.join(i.name for i in items)}); keep one")
                continue
            exercise = exercises.setdefault(exercise_id, course.exercise(exercise_id))
            found.entries.append(Entry(learner_dir.name, exercise, items[0]))
    return found
