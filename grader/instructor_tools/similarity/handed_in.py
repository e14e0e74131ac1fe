"""Artifacts a learner handed in as files of a submission folder: compiled pipelines and TFLite models.

Plain data, never run: read as bytes, bounded, through the intake's own reader of plain files
(links, pipes and devices refused from ``lstat`` before anything opens them). Only folders are
searched: intake unpacks a zip for its module alone, and this command adds no zip reader of its own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
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
SKIPPED_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX"}


@dataclass(frozen=True)
class HandedIn:
    kind: ArtifactKind
    name: str  # the file's path in the folder: learner-made
    data: bytes


def handed_in(submission: Path) -> list[HandedIn]:
    """The artifact files of a folder submission, at most MAX_PER_KIND of each kind, each within its size bound."""
    if not submission.is_dir() or submission.is_symlink():
        return []
    found: list[HandedIn] = []
    counts = {kind: 0 for kind in ArtifactKind}
    for directory, dirnames, filenames in os.walk(submission, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            kind = SUFFIXES.get(Path(name).suffix.lower())
            path = Path(directory) / name
            if kind is None or counts[kind] >= MAX_PER_KIND:
                continue
            try:
                if special_kind(path) is not None:
                    continue
                data = read_regular(path, MAX_BYTES[kind])
            except (NotRegular, OSError):
                continue  # too large or not a plain file: not an artifact of this course
            counts[kind] += 1
            found.append(HandedIn(kind, path.relative_to(submission).as_posix(), data))
    return found
