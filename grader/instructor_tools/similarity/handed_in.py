"""Artifacts a learner handed in as files of a submission folder: compiled pipelines and TFLite models.

Plain data, never run: read as bytes, bounded, through the intake's own reader of plain files
(links, pipes and devices refused from ``lstat`` before anything opens them). Only folders are
searched: intake unpacks a zip for its module alone, and this command adds no zip reader of its own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from grader.intake.special_files import NotRegular, read_regular, special_kind
from grader.judging.kfp_ir import MAX_PACKAGE_BYTES


class ArtifactKind(Enum):
    PIPELINE = "pipeline"  # a compiled KFP package (YAML, or the JSON the compiler also writes)
    MODEL = "model"  # a TFLite flatbuffer


SUFFIXES = {".yaml": ArtifactKind.PIPELINE, ".yml": ArtifactKind.PIPELINE, ".json": ArtifactKind.PIPELINE,
            ".tflite": ArtifactKind.MODEL}
MAX_BYTES = {ArtifactKind.PIPELINE: MAX_PACKAGE_BYTES, ArtifactKind.MODEL: 20 * 1024 * 1024}
MAX_PER_KIND = 8  # tflite_quantize hands in three variants; more is not a submission of this course
MAX_DEPTH = 16  # folders below the submission searched; a course's submission is two or three deep
MAX_ENTRIES = 5_000  # folder entries looked at in all, before the search stops
SKIPPED_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX"}


@dataclass(frozen=True)
class HandedIn:
    kind: ArtifactKind
    name: str  # the file's path in the folder: learner-made
    data: bytes


@dataclass
class Search:
    """What a folder's search found, and why it stopped early if it did (the grader's words)."""

    files: list[HandedIn] = field(default_factory=list)
    problem: str | None = None


def handed_in(submission: Path) -> Search:
    """The artifact files of a folder submission, at most MAX_PER_KIND of each kind, each within its size bound.

    The folder is walked with a stack of our own, never by recursion (``os.walk`` recurses in Python 3.11:
    a folder nested a thousand deep would end the run with RecursionError), at most MAX_DEPTH deep and
    MAX_ENTRIES entries in all; links are never followed (``lstat`` only). Folders and files in sorted
    order, a folder's files before its subfolders, as ``os.walk`` went.
    """
    found = Search()
    if not submission.is_dir() or submission.is_symlink():
        return found
    counts = {kind: 0 for kind in ArtifactKind}
    stack: list[tuple[Path, int]] = [(submission, 0)]
    seen = 0
    while stack:
        directory, depth = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = []
                for entry in listing:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        found.problem = f"searched only its first {MAX_ENTRIES} entries"
                        break
                    entries.append(entry)
        except OSError:
            continue  # unreadable folder: nothing of it is compared
        entries.sort(key=lambda e: e.name)
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                        subfolders.append(Path(entry.path))
                    continue
            except OSError:
                continue
            _take(found, counts, submission, Path(entry.path))
        if found.problem:
            break
        if subfolders and depth >= MAX_DEPTH:
            found.problem = f"searched only {MAX_DEPTH} folders deep"
            continue
        stack.extend((path, depth + 1) for path in reversed(subfolders))
    return found


def _take(found: Search, counts: dict, submission: Path, path: Path) -> None:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None or counts[kind] >= MAX_PER_KIND:
        return
    try:
        if special_kind(path) is not None:
            return
        data = read_regular(path, MAX_BYTES[kind])
    except (NotRegular, OSError):
        return  # too large or not a plain file: not an artifact of this course
    counts[kind] += 1
    found.files.append(HandedIn(kind, path.relative_to(submission).as_posix(), data))
