"""Digests that decide whether a grading can be reused.

* ``suite_hash``: one digest of everything that decides an exercise's grade
  (its tests, the solution folder, the trusted helpers tests call, the
  library versions). Changing any of it regrades; the batch cache is keyed
  on it, so changed tests never read stale references; a cluster's worker
  refuses a task planned against another.
* ``content_hash``: one digest of a submission as sent (file, notebook,
  folder or zip); special files are named, never opened.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import threading
from pathlib import Path

from grader.course.model import Course, Exercise
from grader.intake.folders import walk
from grader.intake.special_files import special_kind

HASH_VERSION = "1"  # bump when what goes into a suite hash changes
# The trusted helpers hidden and public tests call: part of what a grade depends on.
ENGINE_PARTS = ("grading/plugin.py", "testing.py", "sandbox/wire.py", "recipes", "judging", "fixtures")
# Libraries whose behaviour the tests measure; a new version may change a grade.
LIBRARIES = ("kfp", "google-cloud-aiplatform", "tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert",
             "numpy", "pytest")
_SKIP_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache"})


def _files_below(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = []
    for directory, _, filenames, _ in walk(path, skip=_SKIP_DIRS):  # a learner's folder may nest without end
        found += [directory / f for f in filenames if not f.endswith((".pyc", ".tmp"))]
    return found


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


_suite_cache: dict[tuple, str] = {}
_suite_lock = threading.Lock()


def suite_hash(exercise: Exercise, course: Course) -> str:
    """The digest of an exercise's test suite and everything its tests rely on."""
    engine = Path(__file__).resolve().parents[1]  # the grader package
    files: list[tuple[str, Path]] = [("exercise/exercise.toml", exercise.directory / "exercise.toml")]
    files += [(f"exercise/{p.name}", p) for p in exercise.public_tests]
    files += [(f"solution/{p.relative_to(exercise.solution_dir).as_posix()}", p)
              for p in _files_below(exercise.solution_dir)]
    for part in ENGINE_PARTS:
        files += [(f"grader/{p.relative_to(engine).as_posix()}", p) for p in _files_below(engine / part)]
    stamp = tuple((label, p.stat().st_mtime_ns, p.stat().st_size) for label, p in files if p.is_file())
    key = (exercise.id, str(course.root), stamp)
    with _suite_lock:
        if key in _suite_cache:
            return _suite_cache[key]
    digest = hashlib.sha256(f"hml-suite-v{HASH_VERSION}\n".encode())
    for name, version in sorted(library_versions().items()):
        digest.update(f"lib {name}=={version}\n".encode())
    for label, path in files:
        if path.is_file():
            digest.update(f"file {label} {_file_digest(path)}\n".encode())
    value = digest.hexdigest()
    with _suite_lock:
        _suite_cache[key] = value
    return value


def content_hash(submission: Path) -> str:
    """The digest of a submission as sent: a file's bytes, or a folder's names and bytes.

    Links, pipes, sockets and devices are named, never opened (a FIFO would
    block the batch here); intake then refuses them with a message.
    """
    if not os.path.lexists(submission):
        return hashlib.sha256(b"missing").hexdigest()
    kind = special_kind(submission)
    if kind is not None:
        return hashlib.sha256(f"special {kind}".encode()).hexdigest()
    if submission.is_file():
        return _file_digest(submission)
    digest = hashlib.sha256(b"hml-folder\n")
    for path in _files_below(submission):
        relative = path.relative_to(submission).as_posix()
        kind = special_kind(path)
        if kind is not None:
            digest.update(f"special {relative} {kind}\n".encode())
        else:
            digest.update(f"file {relative} {_file_digest(path)}\n".encode())
    return digest.hexdigest()
