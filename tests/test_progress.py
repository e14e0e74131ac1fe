"""The time-left estimate of a batch: known durations first, never zero while work is left."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.batch.progress import Estimator, guess_seconds
from grader.course.model import Course
from grader.grading.run import Job

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("grader.batch.progress.time.monotonic", lambda: now[0])
    return now


def _jobs(*exercise_ids: str) -> list[Job]:
    course = Course(ROOT)
    return [Job(course.exercise(e), ROOT / "x.py", f"s{i}", ROOT / "out") for i, e in enumerate(exercise_ids)]


def test_before_any_grading_the_estimate_uses_each_exercises_known_duration(clock):
    """Early on, a batch of slow TensorFlow gradings is not estimated from a fast exercise's first result."""
    jobs = _jobs("hybrid_placement", "mobile_budget", "mobile_budget", "mobile_budget")
    estimate = Estimator(jobs, workers=1, history={})
    expected = guess_seconds(jobs[0].exercise) + 3 * guess_seconds(jobs[1].exercise)
    assert estimate.seconds_left() == pytest.approx(expected)
    estimate.start(jobs[0])
    clock[0] += 0.4
    estimate.finish(jobs[0], 0.4)  # a fast one finished first: the TensorFlow ones keep their own duration
    assert estimate.seconds_left() == pytest.approx(3 * guess_seconds(jobs[1].exercise))
    assert guess_seconds(jobs[1].exercise) >= 5


def test_a_grading_running_past_its_mean_still_has_time_left(clock):
    """A slow submission that runs longer than the exercise's mean does not show 0:00 while it runs."""
    jobs = _jobs("kfp_basic_pipeline")
    estimate = Estimator(jobs, workers=1, history={"kfp_basic_pipeline": 2.0})
    estimate.start(jobs[0])
    clock[0] += 1.0
    assert estimate.seconds_left() == pytest.approx(1.0)
    clock[0] += 39.0
    assert estimate.seconds_left() >= 10.0
