"""Grading on many machines: Redis started here, real `hml worker` processes, the real coordinator.

Each test starts its own Redis on a free loopback port (Debian's redis-server,
in a temporary folder, stopped at the end) and its own workers.
"""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch.cluster import CeleryEngine, GradingTask, handle
from grader.batch.coordinator import run_batch
from grader.batch.engines import LocalEngine
from grader.course.model import Course
from grader.grading.run import Job
from grader.record.gradebook import Gradebook

ROOT = Path(__file__).resolve().parents[1]
VISIBILITY = 8  # seconds before a task whose worker died is handed out again (the default is far longer)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: run `make test` (CI installs it)")
    port = _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                                "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


class Workers:
    """`hml worker` processes, each in a session of its own (so one can be killed whole)."""

    def __init__(self, broker: str, tmp: Path):
        self.broker, self.tmp, self.processes = broker, tmp, []

    def start(self, count: int = 1, env: dict | None = None) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            log = (self.tmp / f"worker-{len(self.processes)}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "grader.cli", "worker", "--broker", self.broker, "--concurrency", "1",
                 "--visibility-timeout", str(VISIBILITY), "--cache-dir", str(self.tmp / "node-cache")],
                stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT), env=env or dict(os.environ),
                start_new_session=True)
            self.processes.append(process)
            started.append(process)
        for process in started:
            self._wait_ready(process)
        return started

    def _wait_ready(self, process: subprocess.Popen) -> None:
        log = self.tmp / f"worker-{self.processes.index(process)}.log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in log.read_bytes():
                return
            if process.poll() is not None:
                pytest.fail(f"a worker exited: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        pytest.fail("a worker did not become ready")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(redis_url, tmp_path):
    pool = Workers(redis_url, tmp_path)
    yield pool
    pool.stop()


def _class(root: Path) -> Path:
    """Five learners, two exercises, eleven submissions: complete, partial, starters, a hostile and a refused one."""
    placement = ROOT / "solutions" / "hybrid_placement" / "placement.py"
    pipeline = ROOT / "solutions" / "kfp_basic_pipeline" / "pipeline.py"
    starters = {e: ROOT / "exercises" / e / f for e, f in (("hybrid_placement", "placement.py"),
                                                          ("kfp_basic_pipeline", "pipeline.py"))}
    layout = {
        "ada": {"hybrid_placement": placement, "kfp_basic_pipeline": pipeline},
        "ben": {"hybrid_placement": starters["hybrid_placement"], "kfp_basic_pipeline": starters["kfp_basic_pipeline"]},
        "cy": {"hybrid_placement": ROOT / "tests" / "hostile" / "fake_results.py",
               "kfp_basic_pipeline": ROOT / "tests" / "hostile_kfp" / "broken.py"},
        "dee": {"kfp_basic_pipeline": pipeline},
        "eve": {"kfp_basic_pipeline": ROOT / "tests" / "hostile_kfp" / "printed_lies.py"},
    }
    for learner, exercises in layout.items():
        for exercise, source in exercises.items():
            folder = root / learner / exercise
            folder.mkdir(parents=True)
            name = "placement.py" if exercise == "hybrid_placement" else "pipeline.py"
            (folder / name).write_bytes(source.read_bytes())
    for learner in ("dee", "eve"):
        (root / learner / "hybrid_placement").mkdir()
        (root / learner / "hybrid_placement" / "placement.py").write_bytes(placement.read_bytes())
    evil = root / "fay" / "hybrid_placement.zip"
    evil.parent.mkdir()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../placement.py", "def place(workload):\n    return {}\n")
    return root


def _jobs(course: Course, root: Path, output: Path) -> list[Job]:
    from grader.intake.discovery import discover_class

    found = discover_class(root, course)
    return [Job(e.exercise, e.path, f"{e.learner}-{e.exercise.id}", output, learner=e.learner) for e in found.entries]


def _recorded(gradebook: Path) -> dict:
    with Gradebook(gradebook) as book:
        runs = book.history(tests=True)
    return {(r.learner, r.exercise): (r.score, r.max_score, r.status, r.refused,
                                      [(t.name, t.score, t.status, t.output) for t in r.tests]) for r in runs}, len(runs)


def test_celery_grades_a_class_as_the_local_engine_does(redis_url, workers, tmp_path, sandboxed):
    """Two workers grade eleven submissions (one hostile, one refused) over two exercises: the results
    and the gradebook equal those of a local --jobs 2 run of the same class."""
    course = Course(ROOT)
    root = _class(tmp_path / "class")
    workers.start(2)
    cluster = run_batch(_jobs(course, root, tmp_path / "celery"), course=course,
                        gradebook_path=tmp_path / "celery" / "gradebook.sqlite",
                        show_progress=False, quiet=True, engine=CeleryEngine(redis_url))
    local = run_batch(_jobs(course, root, tmp_path / "local"), course=course,
                      gradebook_path=tmp_path / "local" / "gradebook.sqlite",
                      engine=LocalEngine(tmp_path / "c2", sandboxed, workers=2), workers=2, show_progress=False,
                      quiet=True)
    assert cluster.graded == local.graded == 11 and not cluster.problems
    celery_book, celery_runs = _recorded(tmp_path / "celery" / "gradebook.sqlite")
    local_book, _ = _recorded(tmp_path / "local" / "gradebook.sqlite")
    assert celery_runs == 11 and celery_book == local_book
    assert celery_book[("ada", "kfp_basic_pipeline")][0] == celery_book[("ada", "kfp_basic_pipeline")][1] > 0
    assert celery_book[("fay", "hybrid_placement")][2] == "refused"
    assert celery_book[("cy", "hybrid_placement")][0] == 0
    for name in ("ada-hybrid_placement", "fay-hybrid_placement"):
        assert (tmp_path / "celery" / name / "results.json").is_file()
    again = run_batch(_jobs(course, root, tmp_path / "celery"), course=course,
                      gradebook_path=tmp_path / "celery" / "gradebook.sqlite",
                      show_progress=False, quiet=True, engine=CeleryEngine(redis_url))
    assert again.graded == 0 and again.skipped == 11  # planning is the coordinator's, as for a local batch


def test_a_worker_killed_mid_grading_loses_nothing(redis_url, workers, tmp_path):
    """SIGKILL to one worker (its whole process tree) while it grades: every submission still ends up
    graded exactly once in the gradebook, by the other worker once the task comes back."""
    course = Course(ROOT)
    root = tmp_path / "class"
    for i in range(6):
        folder = root / f"learner{i}" / "kfp_basic_pipeline"
        folder.mkdir(parents=True)
        (folder / "pipeline.py").write_text(f"# learner {i}\n" + (ROOT / "solutions" / "kfp_basic_pipeline"
                                                                   / "pipeline.py").read_text())
    doomed, survivor = workers.start(2)
    outcome = {}
    coordinator = threading.Thread(target=lambda: outcome.update(result=run_batch(
        _jobs(course, root, tmp_path / "out"), course=course, gradebook_path=tmp_path / "out" / "gradebook.sqlite",
        show_progress=False, quiet=True, engine=CeleryEngine(redis_url))))
    coordinator.start()
    time.sleep(3)  # both workers have a task by now (prefetch 1, six tasks)
    os.killpg(doomed.pid, signal.SIGKILL)
    coordinator.join(timeout=300)
    assert not coordinator.is_alive(), "the coordinator never finished"
    result = outcome["result"]
    assert result.graded == 6 and not result.problems
    book, runs = _recorded(tmp_path / "out" / "gradebook.sqlite")
    assert runs == 6 and all(score == maximum > 0 for score, maximum, *_ in book.values())
    assert survivor.poll() is None


def test_an_unreachable_broker_is_a_clear_error_and_touches_nothing(tmp_path):
    """grade-course --engine celery with nothing listening says so at once; no gradebook is written."""
    root = _class(tmp_path / "class")
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade-course", str(root), "-o", str(out),
                           "--engine", "celery", "--broker", f"redis://127.0.0.1:{_free_port()}/0"],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert done.returncode != 0 and "cannot reach the broker" in done.stderr, done.stderr
    assert time.monotonic() - started < 60
    assert not (out / "gradebook.sqlite").exists()


def test_a_worker_with_other_tests_refuses_the_task_and_nothing_is_recorded(redis_url, workers, tmp_path):
    """A worker whose checkout holds other hidden tests refuses the task with the reason; the coordinator
    reports it and records nothing, so a later run grades the submission."""
    other = tmp_path / "other-course"
    for part in ("exercises", "solutions"):
        shutil.copytree(ROOT / part / "hybrid_placement", other / part / "hybrid_placement")
    hidden = other / "solutions" / "hybrid_placement" / "test_hidden.py"
    hidden.write_text(hidden.read_text() + "\n# a changed suite\n")
    workers.start(1, env=dict(os.environ, HML_COURSE_ROOT=str(other)))
    course = Course(ROOT)
    root = tmp_path / "class"
    (root / "ada" / "hybrid_placement").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "hybrid_placement" / "placement.py", root / "ada" / "hybrid_placement")
    outcome = run_batch(_jobs(course, root, tmp_path / "out"), course=course,
                        gradebook_path=tmp_path / "out" / "gradebook.sqlite",
                        show_progress=False, quiet=True, engine=CeleryEngine(redis_url))
    assert outcome.graded == 0 and len(outcome.problems) == 1
    assert "other tests for hybrid_placement" in outcome.problems[0] and "update the worker's checkout" in outcome.problems[0]
    assert _recorded(tmp_path / "out" / "gradebook.sqlite")[1] == 0


@pytest.mark.parametrize("payload, reason", [
    ({"hello": "world"}, "not an hml grading task"),
    ({"version": 1, "key": "k", "exercise": "hybrid_placement", "suite_hash": "x", "name": "n",
      "files": {"../escape.py": base64.b64encode(b"x").decode()}}, "not a relative path"),
    ({"version": 1, "key": "k", "exercise": "hybrid_placement", "suite_hash": "x", "name": "n",
      "files": {"a.py": "%%% not base64"}}, "not base64"),
    ({"version": 1, "key": "k", "exercise": "no_such_exercise", "suite_hash": "x", "name": "n",
      "files": {"a.py": ""}}, "no exercise 'no_such_exercise'"),
])
def test_a_malformed_task_is_refused_with_its_reason(payload, reason):
    """Tasks carry data only, checked before anything is written or graded: each defect is named."""
    answer = handle(payload, Course(ROOT))
    assert answer["status"] == "rejected" and reason in answer["reason"], answer


def test_tasks_are_json_and_never_pickle():
    """The app accepts JSON only: a pickled task would be refused by the worker's consumer."""
    from grader.batch.cluster import app

    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.result_accept_content == ["json"] and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    task = GradingTask("k", "hybrid_placement", "s", "n", {"placement.py": b"\xff\x00"})
    assert GradingTask.from_payload(task.to_payload()) == task
