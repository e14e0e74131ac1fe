"""Nothing lost: a batch stopped by Ctrl-C or killed outright keeps every finished result, and
running the same command again grades only what is left."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]
LEARNERS = [f"learner{i:02d}" for i in range(8)]


def _runs(gradebook: Path) -> list[tuple]:
    if not gradebook.is_file():
        return []
    try:
        with sqlite3.connect(gradebook, timeout=5) as db:
            return db.execute("SELECT learner, exercise, content_hash FROM runs ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []  # created but not migrated yet


def _start(root: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*HML, "grade-course", str(root), "--jobs", "1", "--output-dir", str(out), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, COLUMNS="200"))


def _wait_for_runs(process: subprocess.Popen, gradebook: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(_runs(gradebook)) < count:
        assert process.poll() is None, "the batch ended before it could be stopped: " + process.stdout.read()
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.05)


def _graders_of(pid: int) -> list[int]:
    """pytest processes started by the grader with this pid (they carry HML_GRADER_PID in their environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"HML_GRADER_PID={pid}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def small_class(tmp_path, course):
    """Eight learners' hybrid_placement submissions (the reference with a learner-specific comment)."""
    root = tmp_path / "class"
    reference = course.exercise("hybrid_placement").reference.read_text()
    for learner in LEARNERS:
        (root / learner).mkdir(parents=True)
        (root / learner / "hybrid_placement.py").write_text(f"# {learner}\n{reference}")
    return root


def test_interrupted_and_killed_batches_resume_without_regrading(small_class, tmp_path, sandboxed):
    """Ctrl-C, then SIGKILL, mid-batch: finished results stay, no grader outlives a kill, and the rerun
    grades only the rest (each submission graded exactly once in all)."""
    out = tmp_path / "out"
    gradebook = out / "gradebook.sqlite"

    first = _start(small_class, out)
    _wait_for_runs(first, gradebook, 2)
    first.send_signal(signal.SIGINT)
    output = first.communicate(timeout=60)[0]
    assert first.returncode == 130, output
    assert "interrupted" in output and "run the same command again" in output
    after_interrupt = _runs(gradebook)
    assert 2 <= len(after_interrupt) < len(LEARNERS)

    second = _start(small_class, out)
    _wait_for_runs(second, gradebook, len(after_interrupt) + 2)
    second.kill()  # SIGKILL: no chance to clean up
    second.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _graders_of(second.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _graders_of(second.pid), "pytest processes outlived the killed grader"
    after_kill = _runs(gradebook)
    assert len(after_kill) < len(LEARNERS), "the kill came too late to test anything"
    finished = {learner for learner, _, _ in after_kill}
    stamps = {learner: (out / learner / "hybrid_placement" / "results.json").stat().st_mtime_ns
              for learner in finished}

    third = _start(small_class, out)
    output = third.communicate(timeout=300)[0]
    assert third.returncode == 0, output
    assert f"graded {len(LEARNERS) - len(finished)}, skipped {len(finished)}" in output, output
    runs = _runs(gradebook)
    assert sorted(learner for learner, _, _ in runs) == LEARNERS, "every submission graded exactly once"
    for learner, stamp in stamps.items():
        assert (out / learner / "hybrid_placement" / "results.json").stat().st_mtime_ns == stamp, learner
