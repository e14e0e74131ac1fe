"""The batch cache: reference values computed once and shared by every grading of an exercise.

Tests ask for a value through the ``batch_cache`` fixture (``BatchCache``); the first grading
that needs it computes it, the rest read it. Where an exercise's values live is decided here
alone (``folder``): one folder per exercise and suite, so changed tests start afresh. Batches,
the cluster's nodes, ``hml validate`` and ``hml check`` all find their folder this way, and an
engine grades a cold exercise's first submission before the others (``cold``).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from grader.sandbox import wire

if TYPE_CHECKING:  # pragma: no cover
    from grader.course.model import Exercise


def folder(cache_root: Path, exercise: "Exercise", suite: str) -> Path:
    """Where an exercise's shared references live under ``cache_root``, for the suite whose hash is ``suite``."""
    return cache_root / f"{exercise.id}-{suite[:16]}"


def drop_stale(cache_root: Path, exercise: "Exercise", keep: Path) -> None:
    """Remove the exercise's folders of other suites (a cache kept between runs, as ``hml check``'s is)."""
    import shutil

    for stale in cache_root.glob(f"{exercise.id}-*"):
        if stale != keep:
            shutil.rmtree(stale, ignore_errors=True)


def uses_batch_cache(exercise: "Exercise") -> bool:
    """Whether an exercise's tests share references through ``batch_cache`` (worth warming first)."""
    for path in exercise.public_tests + exercise.hidden_tests:
        try:
            if "batch_cache" in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def cold(suites: Iterable[tuple["Exercise", str]], cache_root: Path) -> set[str]:
    """Exercises whose tests use the batch cache and whose folder is still empty: grade one of each first."""
    found = set()
    for exercise, suite in suites:
        if exercise.id in found or not uses_batch_cache(exercise):
            continue
        place = folder(cache_root, exercise, suite)
        if not place.is_dir() or not any(place.iterdir()):
            found.add(exercise.id)
    return found


class BatchCache:
    """Reference values computed once per batch and shared by every submission in it (the ``batch_cache`` fixture)."""

    def __init__(self, directory: Path | None, namespace: str):
        self.directory = directory
        self.namespace = namespace
        self._memory: dict[str, object] = {}

    def __call__(self, key: str, compute):
        if key in self._memory:
            return self._memory[key]
        path = None
        if self.directory is not None:
            digest = hashlib.sha256(f"{self.namespace}:{key}".encode()).hexdigest()[:24]
            path = self.directory / f"{self.namespace}-{digest}.bin"
            if path.is_file():
                with path.open("rb") as stream:
                    header, blobs = wire.read_message(stream)
                value = wire.decode(header["value"], blobs)
                self._memory[key] = value
                return value
        value = compute()
        if path is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tree, blobs = wire.encode(value)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as stream:
                wire.write_message(stream, {"value": tree}, blobs)
            temporary.replace(path)
        self._memory[key] = value
        return value
