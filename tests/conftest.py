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
                         sandbox=sandboxed, cache_dir=batch_cache_dir)

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


# --------------------------------------------------------------------------- test tiers
# Each tier is a marker set here, from what a test uses, never by hand: `make test-fast` runs the tests that
# need none of them, `make test` runs them all. The markers are registered in pyproject.toml
# ([tool.pytest.ini_options] markers); tests/test_tiers.py checks both lists agree.
TIERS = ("sandbox", "tensorflow", "redis", "chromium")

# Fixtures that grade a submission or start a worker (whatever module defines them).
SANDBOX_FIXTURES = {"sandboxed", "grade", "grade_source", "grade_landlock"}
# Module fixtures that grade without asking for a sandbox fixture: (module, fixture).
GRADING_FIXTURES = {
    ("test_sandbox_container", "contained_batch"),        # `hml grade` under a seccomp filter
    ("test_learner_notebooks", "verdicts"),               # `hml check` on every reference
    ("test_learner_feedback", "python_without_tensorflow"),  # `hml check` in a Python without TensorFlow
    ("test_cluster", "workers"),                          # Celery workers that grade
}
# Tests that start `hml grade`/`check` or a worker themselves: (module, test function).
STARTS_GRADING = {
    ("test_grading", "test_grade_cli_writes_results_per_submission"),
    ("test_grading", "test_grading_refuses_without_sandbox_unless_told"),
    ("test_learner_notebooks", "test_starter_todos_point_to_the_statement"),
    ("test_security_redteam", "test_landlock_daemon_without_own_uid_dies_with_the_worker"),
    ("test_security_redteam", "test_landlock_daemon_dies_when_the_trusted_process_is_killed"),
}
# TensorFlow: the modules of the mobile exercises (their gradings), fixtures that load it, and tests that grade
# a mobile exercise elsewhere.
TENSORFLOW_MODULES = {"test_exercise_mobile_budget", "test_exercise_mobile_convert", "test_exercise_mobile_fixtures",
                      "test_exercise_mobile_freeze", "test_exercise_mobile_quantize", "test_security_mobile"}
TENSORFLOW_FIXTURES = {
    ("test_exercise_mobile_fixtures", "evaluator"),  # a worker that preloads TensorFlow
    ("test_learner_notebooks", "executed"),          # runs every notebook, the mobile ones included
    ("test_learner_notebooks", "verdicts"),
}
GRADES_A_MOBILE_EXERCISE = {
    ("test_instructor_release", "test_mobile_public_tests_run_without_conversion_code"),
    ("test_platform_gradescope", "test_mobile_budget_reference_gets_a_leaderboard_entry"),
}
REDIS_FIXTURES = {"redis_url"}
CHROMIUM_MODULES = {"test_report_pages", "test_lti_browser"}


def tiers_of(item, course: Course) -> set[str]:
    """The tiers a collected test belongs to, from its fixtures, its module and its parameters."""
    module = item.path.stem
    name = getattr(item, "originalname", item.name)
    fixtures = set(getattr(item, "fixturenames", ()))
    found = set()
    if (fixtures & SANDBOX_FIXTURES or {(module, f) for f in fixtures} & GRADING_FIXTURES
            or (module, name) in STARTS_GRADING):
        found.add("sandbox")
    params = getattr(getattr(item, "callspec", None), "params", {})
    graded_here = "sandbox" in found and (module in TENSORFLOW_MODULES or _needs_tensorflow(params, course))
    if (graded_here or {(module, f) for f in fixtures} & TENSORFLOW_FIXTURES
            or (module, name) in GRADES_A_MOBILE_EXERCISE):
        found.add("tensorflow")
    if fixtures & REDIS_FIXTURES:
        found.add("redis")
    if module in CHROMIUM_MODULES:
        found.add("chromium")
    return found


def _needs_tensorflow(params: dict, course: Course) -> bool:
    """Whether the exercise a test is parametrized with (``exercise_id``) loads TensorFlow in its workers."""
    exercise_id = params.get("exercise_id")
    if not isinstance(exercise_id, str) or exercise_id not in course.exercise_ids():
        return False
    return course.exercise(exercise_id).needs_tensorflow


def pytest_collection_modifyitems(config, items):
    course = Course(ROOT)
    for item in items:
        for tier in sorted(tiers_of(item, course)):
            item.add_marker(tier)
