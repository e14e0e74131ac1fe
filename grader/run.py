"""One submission through pytest, and many in parallel.

Each submission is graded by its own trusted pytest process (public and
hidden tests), which talks to its own sandboxed worker. A crash, a timeout
or a refusal is recorded as that submission's result; the batch goes on.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from grader.course import Course, Exercise
from grader.intake import SubmissionRefused, discard, prepare
from grader.plugin import GradingConfig
from grader.results import GradeResult

GRADING_INI = Path(__file__).with_name("grading.ini")
RUN_TIMEOUT = 30 * 60


@dataclass
class Job:
    exercise: Exercise
    submission: Path
    name: str
    output_dir: Path


def submission_names(paths: list[Path]) -> list[str]:
    """File stem or directory name; parents' names are added where two would clash."""
    names = [p.stem if p.is_file() else p.name for p in paths]
    parents = [p.resolve().parent for p in paths]
    for _ in range(8):
        clashing = {n for n in names if names.count(n) > 1}
        if not clashing:
            return names
        for i, name in enumerate(names):
            if name in clashing and parents[i].name:
                names[i] = f"{parents[i].name}-{name}"
                parents[i] = parents[i].parent
    return [f"{n}-{i + 1}" for i, n in enumerate(names)]


def grade_one(exercise: Exercise, submission: Path, name: str, results_path: Path, *, course: Course,
              sandboxed: bool = True, cache_dir: Path | None = None, include_public: bool = True,
              include_hidden: bool = True) -> GradeResult:
    """Grade one submission and write its ``results.json``; never raises for a bad submission."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hml-grade-") as scratch:
        scratch = Path(scratch)
        config = GradingConfig(exercise=exercise.id, course_root=str(course.root), submission=name,
                               results_path=str(results_path), sandboxed=sandboxed,
                               cache_dir=str(cache_dir) if cache_dir else None)
        try:
            config.workspace = str(prepare(submission, exercise.file, scratch / "workspace").root)
        except SubmissionRefused as exc:
            config.refused = str(exc)
        config_path = scratch / "config.json"
        config_path.write_text(json.dumps(asdict(config)))
        tests = (exercise.public_tests if include_public else []) + (exercise.hidden_tests if include_hidden else [])
        results_path.unlink(missing_ok=True)
        error = _run_pytest(config_path, tests, course.root, scratch / "pytest.log")
        discard(scratch / "workspace")
    if results_path.is_file() and error is None:
        result = GradeResult.read(results_path)
        result.execution_time = time.monotonic() - started  # intake and start-up included
        result.write(results_path)
        return result
    result = GradeResult(name, exercise.id, execution_time=time.monotonic() - started, refused=config.refused,
                         error=error or "the grader did not write results", sandboxed=sandboxed)
    result.write(results_path)
    return result


def _run_pytest(config_path: Path, tests: list[Path], root: Path, log: Path) -> str | None:
    """Run the trusted pytest process; return a description of what went wrong, if anything did."""
    argv = [sys.executable, "-m", "pytest", "-p", "grader.plugin", "--hml-config", str(config_path),
            "-c", str(GRADING_INI), "--rootdir", str(root), "-q", "-p", "no:cacheprovider",
            "--assert=plain", "--import-mode=importlib", *map(str, tests)]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with log.open("wb") as out:
        try:
            process = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
                                     timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"grading took longer than {RUN_TIMEOUT // 60} minutes and was stopped"
    if process.returncode in (0, 1):  # 1: some tests failed, which is what grading is for
        return None
    tail = log.read_text(errors="replace")[-2000:]
    return f"the test run failed (pytest exit code {process.returncode}):\n{tail}"


def grade_many(jobs: list[Job], *, course: Course, workers: int = 1, sandboxed: bool = True,
               cache_dir: Path | None = None,
               on_done: Callable[[Job, GradeResult], None] | None = None,
               on_start: Callable[[Job], None] | None = None) -> list[GradeResult]:
    """Grade ``jobs`` with up to ``workers`` running at once; results come back in job order."""
    results: dict[int, GradeResult] = {}

    def work(index: int, job: Job) -> GradeResult:
        if on_start:
            on_start(job)
        try:
            return grade_one(job.exercise, job.submission, job.name, job.output_dir / job.name / "results.json",
                             course=course, sandboxed=sandboxed, cache_dir=cache_dir)
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
            result = GradeResult(job.name, job.exercise.id, error=f"internal error: {type(exc).__name__}: {exc}",
                                 sandboxed=sandboxed)
            result.write(job.output_dir / job.name / "results.json")
            return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(work, i, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if on_done:
                on_done(jobs[index], results[index])
    return [results[i] for i in range(len(jobs))]

