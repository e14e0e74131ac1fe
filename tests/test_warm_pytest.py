"""The warm pytest parent: a batch forks its trusted pytest runs from one process that never collected a test.

A probe plugin, loaded into every run (``-p``), writes down who its parent is and whether any test file was
already imported when the run began: the parent imports libraries, never tests (hidden ones included).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.grading.run import Job, grade_many, grade_one
from grader.grading.warm import Warm
from grader.sandbox.fork_server import MAX_FDS, Client

PROBE = textwrap.dedent('''
    import json, os, sys

    def pytest_configure(config):
        tests = sorted(m for m in sys.modules if "test_public" in m or "test_hidden" in m)
        with open(os.environ["HML_WARM_PROBE"], "a") as stream:
            stream.write(json.dumps({"pid": os.getpid(), "parent": os.getppid(), "tests": tests}) + "\\n")
''')


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """The probe plugin on the path every run starts with; its records, read after the batch."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "warm_probe.py").write_text(PROBE)
    records = tmp_path / "records.jsonl"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "plugins"),
                                                                   os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("HML_WARM_PROBE", str(records))
    return lambda: [json.loads(line) for line in records.read_text().splitlines()]


def _class(course, tmp_path, learners: int) -> list[Job]:
    exercise = course.exercise("hybrid_placement")
    jobs = []
    for i in range(learners):
        folder = tmp_path / f"learner{i}"
        folder.mkdir()
        (folder / exercise.file).write_text(f"# learner {i}\n{exercise.reference.read_text()}")
        jobs.append(Job(exercise, folder, f"learner{i}", tmp_path / "out"))
    return jobs


def test_a_batch_forks_every_run_from_one_parent_that_never_imported_a_test(course, sandboxed, tmp_path, probe):
    """Four submissions, two at a time: four runs, each a fork of the same parent (not of the grader), none
    finding a test module already imported; every submission earns full marks."""
    results = grade_many(_class(course, tmp_path, 4), course=course, sandbox=sandboxed, workers=2,
                         pytest_args=("-p", "warm_probe"))
    assert [r.score for r in results] == [r.max_score for r in results] and all(r.max_score for r in results)
    runs = probe()
    assert len(runs) == 4 and len({r["pid"] for r in runs}) == 4
    parents = {r["parent"] for r in runs}
    assert len(parents) == 1 and os.getpid() not in parents, runs
    assert all(r["tests"] == [] for r in runs), runs


def test_a_dead_parent_costs_a_new_interpreter_not_a_grading(course, sandboxed, tmp_path, probe):
    """The parent killed before the run: the run starts as its own interpreter, a child of the grader."""
    with Warm(course, sandboxed, imports=[]) as warm:
        os.killpg(warm.pytest_parent.process.pid, signal.SIGKILL)
        warm.pytest_parent.process.wait()
        job = _class(course, tmp_path, 1)[0]
        result = grade_one(job.exercise, job.submission, job.name, job.results_file, course=course,
                           sandbox=sandboxed, pytest_args=("-p", "warm_probe"), warm=warm)
    assert result.score == result.max_score > 0, result.error
    assert [r["parent"] for r in probe()] == [os.getpid()]


def test_the_parent_never_imports_from_where_the_grader_was_started(course, sandboxed, tmp_path, probe,
                                                                      monkeypatch):
    """An instructor grading from a folder of submissions that holds a ``numpy.py`` and a ``kfp.py``: the
    parent (and each run) imports the real libraries, never those files (they would leave a canary)."""
    here = tmp_path / "submissions"
    here.mkdir()
    canary = tmp_path / "canary"
    for name in ("numpy", "kfp", "pytest"):
        (here / f"{name}.py").write_text(f"open({str(canary)!r}, 'a').write({name!r})\n")
    monkeypatch.chdir(here)
    jobs = _class(course, tmp_path, 2)
    kfp = course.exercise("kfp_basic_pipeline")
    (tmp_path / "kfp").mkdir()
    (tmp_path / "kfp" / kfp.file).write_text(kfp.reference.read_text())
    jobs.append(Job(kfp, tmp_path / "kfp", "kfp", tmp_path / "out"))
    results = grade_many(jobs, course=course, sandbox=sandboxed, workers=2, pytest_args=("-p", "warm_probe"))
    assert not canary.exists(), canary.read_text()
    assert all(r.score == r.max_score > 0 for r in results), [(r.score, r.error) for r in results]
    assert len({r["parent"] for r in probe()}) == 1 and os.getpid() not in {r["parent"] for r in probe()}


SERVER = textwrap.dedent('''
    import json, os, socket, sys
    from grader.sandbox.fork_server import serve

    def run(request):
        print(json.dumps({target: socket.socket(fileno=os.dup(target)).recv(16).decode()
                          for target in request["targets"]}))
        return 0

    serve(socket.socket(fileno=int(sys.argv[1])), run)
''')


def test_a_run_gets_each_descriptor_at_its_number_and_its_output_where_it_was_sent(tmp_path):
    """The descriptors a run is given (a batch's pool sockets) are at the numbers asked for, whatever numbers
    the parent received them and the output as: once, a pool socket's number was the output's in the parent,
    and the run's output went into the pool's control socket while its pool sockets were lost."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                              cwd=Path(__file__).resolve().parents[1])
    theirs.close()
    targets = list(range(3, 3 + MAX_FDS - 2))  # every low number: one of them is the output's in the parent
    pairs = [socket.socketpair() for _ in targets]
    for target, (mine, _) in zip(targets, pairs):
        mine.send(f"fd{target}".encode())
    try:
        with open(tmp_path / "out", "wb") as out:
            run = Client(ours, "the test's parent").start({"cwd": str(tmp_path), "env": {}, "targets": targets},
                                                          out.fileno(), [given.fileno() for _, given in pairs])
            assert run.wait(60) == 0
    finally:
        ours.close()
        server.wait(timeout=30)
    assert json.loads((tmp_path / "out").read_text()) == {str(target): f"fd{target}" for target in targets}
