"""Benchmark where grading runs: the local pool against Celery worker nodes over Redis.

    .venv/bin/python benchmarks/cluster_throughput.py [--learners 4] [--exercise ID ...] [--markdown FILE]

Grades the same class (the reference solutions, each copied as N learners with
a comment of their own) four ways, each into a fresh gradebook: ``--jobs 1``,
``--jobs 2``, one ``hml worker`` node (concurrency 1) and two nodes
(concurrency 1 each), all on this machine, with Redis started here on a free
loopback port with a password, the nodes reading its URL from a file and the
cluster's key from another, as real nodes do. Prints wall time and
submissions per minute.

On one 2-core machine two nodes can at best match ``--jobs 2``: the point of
the numbers is the overhead of the queue, and that a second node adds
throughput as a second job does. On many machines each node adds its cores.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.grade_batch import make_class  # noqa: E402  (the same class as the batch benchmark)
from grader.batch.cluster import CeleryEngine  # noqa: E402
from grader.batch.coordinator import run_batch  # noqa: E402
from grader.batch.engines import Engine, LocalEngine  # noqa: E402
from grader.batch.signing import SECRET_ENV, ClusterKey  # noqa: E402
from grader.course.model import Course  # noqa: E402
from grader.grading.run import Job  # noqa: E402
from grader.intake.discovery import discover_class  # noqa: E402
from grader.sandbox.launch import choose  # noqa: E402

DEFAULT_EXERCISES = ["hybrid_placement", "kfp_basic_pipeline", "kfp_training_pipeline", "hybrid_portable_pipeline"]


def jobs(course: Course, root: Path, out: Path) -> list[Job]:
    return [Job(e.exercise, e.path, f"{e.learner}-{e.exercise.id}", out, learner=e.learner)
            for e in discover_class(root, course).entries]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """Redis with a password, given on its standard input (never on its command line)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = secrets.token_hex(16)
    process = subprocess.Popen(["redis-server", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               start_new_session=True)
    process.stdin.write(f"port {port}\nbind 127.0.0.1\ndir {folder}\nsave \"\"\nappendonly no\n"
                        f"requirepass {password}\n".encode())
    process.stdin.close()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, f"redis://:{password}@127.0.0.1:{port}/0"


def cluster_key(folder: Path) -> ClusterKey:
    """A fresh cluster key in a file, named for this process and the nodes it starts."""
    secret = folder / "cluster-secret"
    secret.write_text(secrets.token_hex(32) + "\n")
    secret.chmod(0o600)
    os.environ[SECRET_ENV] = str(secret)
    return ClusterKey.from_environment()


def start_nodes(broker: str, count: int, folder: Path) -> list[subprocess.Popen]:
    broker_file = folder / "broker-url"
    broker_file.write_text(broker + "\n")
    broker_file.chmod(0o600)
    nodes = []
    for i in range(count):
        log = folder / f"node-{i}.log"
        nodes.append(subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "worker", "--concurrency", "1",
             "--cache-dir", str(folder / f"node-{i}-cache")],
            stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True,
            env=dict(os.environ, HML_BROKER_FILE=str(broker_file))))
    for i, node in enumerate(nodes):
        log = folder / f"node-{i}.log"
        while b"ready." not in log.read_bytes():
            if node.poll() is not None:
                raise SystemExit(log.read_text()[-2000:])
            time.sleep(0.2)
    return nodes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def measure(label: str, course: Course, root: Path, work: Path, engine: Engine) -> tuple[str, float, int]:
    out = work / label.replace(" ", "-")
    batch = jobs(course, root, out)
    started = time.monotonic()
    outcome = run_batch(batch, course=course, engine=engine, gradebook_path=out / "gradebook.sqlite",
                        show_progress=False, quiet=True)
    elapsed = time.monotonic() - started
    bad = [r for r in outcome.results if r.error or r.score != r.max_score]
    if bad or outcome.graded != len(batch):
        raise SystemExit(f"{label}: {len(bad)} submissions did not earn full marks: {bad[:1]}")
    return label, elapsed, len(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--exercise", action="append", default=[])
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server)")
    course = Course(ROOT)
    work = Path(tempfile.mkdtemp(prefix="hml-cluster-bench-"))
    try:
        make_class(course, options.exercise or DEFAULT_EXERCISES, options.learners, work / "class")
        sandbox = choose(os.environ.get("HML_SANDBOX", "auto"))
        rows = [measure(f"--jobs {jobs}", course, work / "class", work, LocalEngine(work / f"cache-{jobs}", sandbox, jobs))
                for jobs in (1, 2)]
        redis, broker = start_redis(work)
        key = cluster_key(work)
        try:
            for count in (1, 2):
                nodes = start_nodes(broker, count, work)
                try:
                    rows.append(measure(f"{count} worker node{'s' if count > 1 else ''}", course, work / "class",
                                        work, CeleryEngine(broker, key)))
                finally:
                    stop(nodes)
        finally:
            stop([redis])
        base = rows[0][1]
        lines = [f"{rows[0][2]} submissions ({', '.join(options.exercise or DEFAULT_EXERCISES)}), "
                 f"{os.cpu_count()} CPUs, all on one machine", "",
                 "| configuration | wall time | submissions per minute | speed-up |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {label} | {seconds:.1f}s | {count / seconds * 60:.1f} | {base / seconds:.2f} |"
                  for label, seconds, count in rows]
        text = "\n".join(lines)
        print(text)
        if options.markdown:
            options.markdown.write_text(text + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
