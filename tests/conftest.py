"""Fixtures for the project's own tests: grade real submissions through the real grader."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.course.model import Course
from grader.grading.run import grade_one
from grader.record.results import GradeResult
from grader.sandbox.launch import Sandbox, SandboxUnavailable, choose

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)


@pytest.fixture(scope="session")
def sandboxed() -> Sandbox:
    """Grading in tests is sandboxed, as an instructor's would be: with bubblewrap (CI installs it), or with
    the sandbox HML_SANDBOX names (``HML_SANDBOX=landlock`` runs the suite as a container would)."""
    try:
        chosen = choose(os.environ.get("HML_SANDBOX", "bwrap"))
    except SandboxUnavailable as exc:
        pytest.fail(f"{exc}: run `make test`, which installs bubblewrap")
    if not chosen.confines:
        pytest.fail("the project's tests grade in a sandbox: HML_SANDBOX=none is not allowed here")
    return chosen


@pytest.fixture(scope="session")
def batch_cache_dir(tmp_path_factory) -> Path:
    """One batch cache for the whole session, as one grading batch would share."""
    return tmp_path_factory.mktemp("batch-cache")


@pytest.fixture
def grade(course, sandboxed, batch_cache_dir, tmp_path):
    """grade(exercise_id, path) -> GradeResult, through intake, sandbox and pytest."""

    def run(exercise_id: str, submission: Path, name: str | None = None) -> GradeResult:
        exercise = course.exercise(exercise_id)
        submission = Path(submission)
        name = name or submission.stem
        return grade_one(exercise, submission, name, tmp_path / name / "results.json", course=course,
                         sandboxed=sandboxed, cache_dir=batch_cache_dir)

    return run


@pytest.fixture
def grade_source(grade, course, tmp_path):
    """grade_source(exercise_id, text) -> GradeResult for a module file holding ``text``."""
    counter = iter(range(1_000_000))

    def run(exercise_id: str, source: str, name: str | None = None) -> GradeResult:
        exercise = course.exercise(exercise_id)
        folder = tmp_path / f"src-{next(counter)}"
        folder.mkdir()
        path = folder / exercise.file
        path.write_text(source)
        return grade(exercise_id, path, name=name or folder.name)

    return run
