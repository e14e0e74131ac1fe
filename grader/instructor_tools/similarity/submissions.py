"""The class as intake sees it: each submission made a module (notebooks converted, zips unpacked) by the
intake's own code, grouped by exercise; what intake refuses is a note, not a comparison."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from grader.course.model import Course, Exercise
from grader.intake.discovery import NoSubmissions, discover_class
from grader.intake.prepare import PreparedSubmission, SubmissionRefused, prepare
from grader.learner_text import shorten

# Code beyond this is not compared: tokenising is linear but not cheap, and no exercise needs more.
MAX_CODE_CHARS = 200_000


@dataclass(frozen=True)
class Submission:
    learner: str  # the learner's folder name: learner-made, shown only escaped
    exercise: Exercise
    path: Path  # as handed in (file, notebook, folder, zip)
    prepared: PreparedSubmission  # the module intake made of it

    @property
    def source(self) -> str:
        text = self.prepared.module_file.read_text(encoding="utf-8", errors="replace")
        return text[:MAX_CODE_CHARS]


@dataclass
class ClassSubmissions:
    by_exercise: dict[str, list[Submission]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # learner-made text: through for_console before printing


def read_class(root: Path, course: Course, only: Iterable[str], workdir: Path,
               output_dir: Path | None = None) -> ClassSubmissions:
    """Every submission under ``root`` (of the exercises ``only`` names, if any), prepared in ``workdir``."""
    discovery = discover_class(root, course, only, output_dir)
    if not discovery.entries:
        raise NoSubmissions(f"{root} holds no submissions laid out as ROOT/<learner>/<exercise>"
                            f"{' of ' + ', '.join(sorted(only)) if only else ''}")
    found = ClassSubmissions(notes=list(discovery.problems))
    grouped: dict[str, list[Submission]] = defaultdict(list)
    for number, entry in enumerate(discovery.entries):
        # Numbered folders: a learner's folder name never becomes a path of ours.
        try:
            prepared = prepare(entry.path, entry.exercise.file, workdir / f"submission-{number}")
        except SubmissionRefused as exc:
            found.notes.append(f"{entry.learner}/{entry.path.name}: not compared, intake refused it "
                               f"({shorten(str(exc), 200)})")
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on a folder nested a thousand deep
            # The class name only (its message may hold the learner's paths); the run goes on without it.
            found.notes.append(f"{entry.learner}/{entry.path.name}: not compared, intake could not read it "
                               f"({type(exc).__name__})")
            continue
        grouped[entry.exercise.id].append(Submission(entry.learner, entry.exercise, entry.path, prepared))
    found.by_exercise = dict(sorted(grouped.items()))
    return found
