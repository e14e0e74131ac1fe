"""Grading on many machines: Redis started here, real `hml worker` processes, the real coordinator.

Each test starts its own Redis on a free loopback port (Debian's redis-server,
in a temporary folder, stopped at the end), with a password it reads from its
standard input, and its own workers, which read the broker's URL from a file
and the cluster's key from another, as a real node does.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
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
import redis
from click.testing import CliRunner

from grader.batch.answers import Answer, Status
from grader.batch.cluster import CeleryEngine, GradingTask, handle
from grader.batch.coordinator import run_batch
from grader.batch.engines import LocalEngine
from grader.batch.signing import ClusterKey, Purpose
from grader.course.model import Course
from grader.grading.run import Job
from grader.record.gradebook import Gradebook

ROOT = Path(__file__).resolve().parents[1]
GRADING = "grader.grading.plugin"  # in the command line of a node's trusted pytest: the node is grading
WARM_PARENT = "grader.grading.warm_pytest"  # ... or of its parent, when the run is a fork of the pytest parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cluster_key(tmp_path, monkeypatch) -> ClusterKey:
    """The cluster's key in a file of its own, named by HML_CLUSTER_SECRET_FILE for the coordinator and nodes."""
    secret = tmp_path / "cluster-secret"
    secret.write_text(secrets.token_hex(32) + "\n")
    secret.chmod(0o600)
    monkeypatch.setenv("HML_CLUSTER_SECRET_FILE", str(secret))
    return ClusterKey.from_environment()


@pytest.fixture
def redis_url(tmp_path):
    """A Redis that asks for a password; the URL carries it (the tests hand it to nodes in a file)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: run `make test` (CI installs it)")
    port, password = _free_port(), secrets.token_hex(16)
    # The configuration, password included, on standard input: nothing secret on redis-server's command line.
    process = subprocess.Popen([server, "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    process.stdin.write(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\nsave \"\"\nappendonly no\n"
                        f"protected-mode yes\nrequirepass {password}\n".encode())
    process.stdin.close()
    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if client.ping():
                break
        except redis.RedisError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://:{password}@127.0.0.1:{port}/0"
    client.close()
    process.terminate()
    process.wait(timeout=10)


class Workers:
    """`hml worker` processes, each in a session of its own; the broker's URL reaches them in a file."""

    def __init__(self, broker: str, tmp: Path):
        self.broker, self.tmp, self.processes = broker, tmp, []
        self.broker_file = tmp / "broker-url"
        self.broker_file.write_text(broker + "\n")
        self.broker_file.chmod(0o600)

    def start(self, count: int = 1, env: dict | None = None) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            log = (self.tmp / f"worker-{len(self.processes)}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "grader.cli", "worker", "--concurrency", "1",
                 "--cache-dir", str(self.tmp / "node-cache")],
                stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True,
                env=dict(env or os.environ, HML_BROKER_FILE=str(self.broker_file)))
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

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to a node and everything it started, its trusted pytest (a session of its own) included."""
        for pid in [process.pid, *_descendants(process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def workers(redis_url, cluster_key, tmp_path):
    pool = Workers(redis_url, tmp_path)
    yield pool
    pool.stop()


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every process on this machine: pid -> (parent pid, command line as the kernel shows it to anyone)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        found[int(entry.name)] = (int(stat.rpartition(")")[2].split()[1]), cmdline)
    return found


def _descendants(pid: int) -> list[int]:
    table = _processes()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in table.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _grading(pid: int) -> bool:
    """Whether the node ``pid`` is grading now: one of its descendants is a trusted pytest, started as one or
    forked from the node's pytest parent (the fork's command line is its parent's)."""
    table = _processes()

    def is_run(child: int) -> bool:
        own, parent = table[child][1], table.get(table[child][0], (0, b""))[1]
        return GRADING.encode() in own or WARM_PARENT.encode() in parent

    return any(is_run(child) for child in _descendants(pid) if child in table)


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
    return {(r.learner, r.exercise): (r.score, r.max_score, r.outcome.value, r.refused,
                                      [(t.name, t.score, t.status, t.output) for t in r.tests]) for r in runs}, len(runs)


def _coordinate(course: Course, root: Path, out: Path, engine: CeleryEngine) -> tuple[threading.Thread, dict]:
    """The coordinator in a thread of this process (the tests watch the cluster while it runs)."""
    outcome: dict = {}

    def run() -> None:
        outcome["result"] = run_batch(_jobs(course, root, out), course=course, gradebook_path=out / "gradebook.sqlite",
                                      show_progress=False, quiet=True, engine=engine)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _copies(root: Path, exercise: str, file: str, source: Path, count: int) -> Path:
    """``count`` learners handing in ``source``, each with a comment of their own (so none is skipped)."""
    for i in range(count):
        folder = root / f"learner{i}" / exercise
        folder.mkdir(parents=True)
        (folder / file).write_text(f"# learner {i}\n" + source.read_text())
    return root


def test_celery_grades_a_class_as_the_local_engine_does(redis_url, workers, cluster_key, tmp_path, sandboxed):
    """Two workers grade eleven submissions (one hostile, one refused) over two exercises: the results
    and the gradebook equal those of a local --jobs 2 run of the same class, and every honest answer
    passes the coordinator's checks (no incident)."""
    course = Course(ROOT)
    root = _class(tmp_path / "class")
    workers.start(2)
    engine = CeleryEngine(redis_url, cluster_key)
    cluster = run_batch(_jobs(course, root, tmp_path / "celery"), course=course,
                        gradebook_path=tmp_path / "celery" / "gradebook.sqlite",
                        show_progress=False, quiet=True, engine=engine)
    local = run_batch(_jobs(course, root, tmp_path / "local"), course=course,
                      gradebook_path=tmp_path / "local" / "gradebook.sqlite",
                      engine=LocalEngine(tmp_path / "c2", sandboxed, workers=2), workers=2, show_progress=False,
                      quiet=True)
    assert cluster.graded == local.graded == 11 and not cluster.problems and not engine.incidents
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
                      show_progress=False, quiet=True, engine=CeleryEngine(redis_url, cluster_key))
    assert again.graded == 0 and again.skipped == 11  # planning is the coordinator's, as for a local batch


def _queued(client: redis.Redis, queue: str) -> list[tuple[str, dict]]:
    """What an intruder reads in a queue: each task's Celery id and its (sealed) payload."""
    found = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found.append((message["headers"]["id"], args[0]))
    return found


def _forge(client: redis.Redis, task_id: str, answer: object) -> None:
    """An answer written straight into a task's result slot, as Celery's Redis backend keeps them."""
    client.set(f"celery-task-meta-{task_id}", json.dumps({
        "status": "SUCCESS", "result": answer, "traceback": None, "children": [], "date_done": "2030-01-01T00:00:00",
        "task_id": task_id}))


def _full_marks(exercise: str, name: str, score: float, maximum: float) -> dict:
    marker = "\x1b]0;PWNED\x07 forged"  # learner-made text: must never reach the coordinator's report verbatim
    return {"score": score, "output": marker, "tests": [
        {"name": "test_everything", "score": score, "max_score": maximum, "status": "passed", "visibility": "visible",
         "output": marker, "extra_data": {"nodeid": "test_everything", "kind": "passed", "duration": 0.1}}],
        "extra_data": {"submission": name, "exercise": exercise, "sandboxed": True,
                       "sandbox": {"kind": "bwrap", "claimed": marker}}}


def test_answers_an_intruder_writes_into_redis_are_refused_and_the_honest_grading_recorded(
        redis_url, workers, cluster_key, tmp_path, capsys):
    """An intruder with the broker's password reads the queued tasks and answers each before any node
    does: unsigned, with a made-up signature, signed with another key, and, signed with the cluster's own
    key, for another exercise, another task, and over the exercise's points. Each is refused, reported as
    an incident in the grader's words (no forged text), never recorded, and the task sent again (Celery
    keeps the first answer in a slot); the nodes' honest grading of every submission is recorded once,
    with the starter's own (low) score."""
    course = Course(ROOT)
    starter = ROOT / "exercises" / "hybrid_placement" / "placement.py"
    root = _copies(tmp_path / "class", "hybrid_placement", "placement.py", starter, 6)
    engine = CeleryEngine(redis_url, cluster_key)
    thread, outcome = _coordinate(course, root, tmp_path / "out", engine)

    intruder = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while len(queued := _queued(intruder, "light")) < 6:
        assert time.monotonic() < deadline and thread.is_alive(), "the coordinator did not queue six tasks"
        time.sleep(0.1)
    tasks = [(task_id, sealed["body"]) for task_id, sealed in queued]
    other_key = ClusterKey(secrets.token_hex(32).encode())

    def honest_looking(body: dict, **changes) -> Answer:
        fields = dict(key=body["key"], name=body["name"], exercise=body["exercise"], suite_hash=body["suite_hash"],
                      node="intruder\x1b[2J", status=Status.GRADED,
                      result=_full_marks(body["exercise"], body["name"], 31, 31))
        return Answer(**{**fields, **changes})

    forgeries = [
        # no signature at all: the answer a node gave before tasks were signed
        lambda body: {"status": "graded", "key": body["key"], "result": _full_marks(body["exercise"], "x", 31, 31)},
        # the shape of a sealed answer with a signature made up
        lambda body: {**honest_looking(body).sealed(cluster_key), "signature": "0" * 64},
        # sealed with a key that is not the cluster's
        lambda body: honest_looking(body).sealed(other_key),
        # the cluster's key, for another exercise (1000/31 points of kfp_sweep)
        lambda body: honest_looking(body, exercise="kfp_sweep",
                                    result=_full_marks("kfp_sweep", body["name"], 1000, 31)).sealed(cluster_key),
        # the cluster's key, naming another task of the batch (an answer replayed into the wrong slot)
        lambda body: honest_looking(body, key=tasks[0][1]["key"] if body is not tasks[0][1] else "another",
                                    ).sealed(cluster_key),
        # the cluster's key and this task's names, scored far over the test's maximum
        lambda body: honest_looking(body, result=_full_marks(body["exercise"], body["name"], 1000, 31)
                                    ).sealed(cluster_key),
    ]
    for (task_id, body), forge in zip(tasks, forgeries):
        _forge(intruder, task_id, forge(body))
    while len(engine.incidents) < 6:  # the coordinator has read and refused every forgery before a node starts
        assert time.monotonic() < deadline + 60 and thread.is_alive(), engine.problems
        time.sleep(0.1)
    workers.start(2)
    thread.join(timeout=240)
    assert not thread.is_alive(), "the coordinator never finished"

    result = outcome["result"]
    assert result.graded == 6 and len(engine.incidents) == 6 and result.problems == engine.incidents
    reasons = " ".join(engine.incidents)
    for reason in ("no signature", "not the cluster key's", "another exercise", "another key",
                   "outside 0 and its maximum"):
        assert reason in reasons, engine.incidents
    printed = " ".join(capsys.readouterr().out.split())  # as a person reads it, whatever the terminal's width
    for text in (reasons, printed):
        assert "PWNED" not in text and "intruder" not in text and "\x1b" not in text
    assert printed.count("incident:") == 6 and printed.count("its answer was refused; sent again, attempt 2 of 3") == 6
    book, runs = _recorded(tmp_path / "out" / "gradebook.sqlite")
    assert runs == 6 and len(book) == 6
    for score, maximum, status, *_ in book.values():
        assert status == "graded" and maximum == 31 and score < maximum  # the starter's score, not a forged one
    assert all(r.score < r.max_score and r.exercise == "hybrid_placement" for r in result.results)


def test_no_broker_credential_on_any_command_line(redis_url, workers, cluster_key, tmp_path):
    """While a node grades, no process on the machine shows the broker's password or the cluster's key in
    its command line (/proc/PID/cmdline, readable by learner code under Landlock): the node read the URL
    from a file. The scan covers the node's grading processes (its trusted pytest is seen)."""
    course = Course(ROOT)
    solution = ROOT / "solutions" / "hybrid_placement" / "placement.py"
    root = _copies(tmp_path / "class", "hybrid_placement", "placement.py", solution, 3)
    password = redis_url.split(":")[2].split("@")[0].encode()
    key = cluster_key.secret
    (node,) = workers.start(1)
    thread, outcome = _coordinate(course, root, tmp_path / "out", CeleryEngine(redis_url, cluster_key))
    seen: set[bytes] = set()
    graded_seen = False
    while thread.is_alive():
        table = _processes()
        seen |= {cmdline for _, cmdline in table.values()}
        graded_seen = graded_seen or _grading(node.pid)
        time.sleep(0.02)
    thread.join()
    assert outcome["result"].graded == 3
    assert graded_seen, "the node was never seen grading"
    assert not [c for c in seen if password in c or key in c], "a credential was on a command line"


def test_broker_credentials_are_refused_on_the_command_line_and_a_key_is_required(tmp_path, monkeypatch):
    """`--broker` with a password is refused (command lines are public on a machine); `hml worker` and
    `grade-course --engine celery` refuse to start without the cluster's key, saying how to make one."""
    from grader.cli import main

    monkeypatch.delenv("HML_CLUSTER_SECRET_FILE", raising=False)
    monkeypatch.delenv("HML_BROKER", raising=False)
    monkeypatch.delenv("HML_BROKER_FILE", raising=False)
    runner = CliRunner()
    for args in (["worker", "--broker", "redis://:hunter2@127.0.0.1:1/0"],
                 ["grade-course", str(tmp_path), "--engine", "celery", "--broker", "redis://:hunter2@127.0.0.1:1/0"]):
        done = runner.invoke(main, args)
        assert done.exit_code != 0 and "--broker-file" in done.output and "hunter2" not in done.output, done.output
    broker = tmp_path / "broker"
    broker.write_text("redis://:hunter2@127.0.0.1:1/0\n")
    for args in (["worker", "--broker-file", str(broker)],
                 ["grade-course", str(tmp_path), "--engine", "celery", "--broker-file", str(broker)]):
        done = runner.invoke(main, args)
        text = " ".join(done.output.split())
        assert done.exit_code != 0 and "HML_CLUSTER_SECRET_FILE" in text and "token_hex(32)" in text, done.output
    short = tmp_path / "short"
    short.write_text("not-a-key\n")
    monkeypatch.setenv("HML_CLUSTER_SECRET_FILE", str(short))
    done = runner.invoke(main, ["worker", "--broker-file", str(broker)])
    assert done.exit_code != 0 and "shorter than" in done.output, done.output


def test_a_node_killed_mid_grading_costs_about_a_minute(redis_url, workers, cluster_key, tmp_path, capsys):
    """SIGKILL to one of two nodes (and all it started) while it grades: the coordinator sees its lease
    lapse, sends the task again, the other node grades it, and the class of eight finishes within two
    minutes of the kill (Redis would hand the task back only after its visibility timeout, over half an
    hour), every submission recorded once; the progress line says the task was sent again."""
    course = Course(ROOT)
    solution = ROOT / "solutions" / "kfp_basic_pipeline" / "pipeline.py"
    root = _copies(tmp_path / "class", "kfp_basic_pipeline", "pipeline.py", solution, 8)
    doomed, survivor = workers.start(2)
    thread, outcome = _coordinate(course, root, tmp_path / "out", CeleryEngine(redis_url, cluster_key))
    deadline = time.monotonic() + 120
    while not _grading(doomed.pid):
        assert time.monotonic() < deadline and thread.is_alive(), "the node never started grading"
        time.sleep(0.05)
    workers.kill(doomed)
    killed = time.monotonic()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the class did not finish within two minutes of the kill"
    assert time.monotonic() - killed < 120
    result = outcome["result"]
    assert result.graded == 8 and not result.problems
    book, runs = _recorded(tmp_path / "out" / "gradebook.sqlite")
    assert runs == 8 and len(book) == 8 and all(score == maximum > 0 for score, maximum, *_ in book.values())
    assert survivor.poll() is None
    printed = " ".join(capsys.readouterr().out.split())
    assert "stopped answering" in printed and "sent again, attempt 2 of 3" in printed, printed


def test_an_unreachable_broker_is_a_clear_error_and_touches_nothing(tmp_path, cluster_key):
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


def test_a_worker_with_other_tests_refuses_the_task_and_nothing_is_recorded(redis_url, workers, cluster_key,
                                                                            tmp_path):
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
    engine = CeleryEngine(redis_url, cluster_key)
    outcome = run_batch(_jobs(course, root, tmp_path / "out"), course=course,
                        gradebook_path=tmp_path / "out" / "gradebook.sqlite",
                        show_progress=False, quiet=True, engine=engine)
    assert outcome.graded == 0 and len(outcome.problems) == 1 and not engine.incidents
    assert "other tests for hybrid_placement" in outcome.problems[0] and "update the worker's checkout" in outcome.problems[0]
    assert _recorded(tmp_path / "out" / "gradebook.sqlite")[1] == 0


KEY = ClusterKey(b"k" * 64)


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
    answer = handle(KEY.seal(Purpose.TASK, payload), KEY, Course(ROOT))
    if "body" in answer:  # refusals of a signed task are signed answers naming it
        answer = KEY.open(Purpose.RESULT, answer)
    assert answer["status"] == "rejected" and reason in answer["reason"], answer


@pytest.mark.parametrize("sealed, reason", [
    ({"version": 1, "key": "k", "exercise": "hybrid_placement", "suite_hash": "x", "name": "n",
      "files": {"a.py": ""}}, "no signature"),
    ({**KEY.seal(Purpose.TASK, {"version": 1, "key": "k"}), "signature": "f" * 64}, "not the cluster key's"),
    (ClusterKey(b"o" * 64).seal(Purpose.TASK, {"version": 1, "key": "k"}), "not the cluster key's"),
    (KEY.seal(Purpose.RESULT, {"version": 1, "key": "k"}), "not a sealed task"),
])
def test_a_node_grades_only_tasks_the_coordinator_signed(sealed, reason):
    """A task queued by anyone but the coordinator (unsigned, a made-up or foreign signature, a signed
    answer passed off as a task) is not graded, and its refusal carries no signature to reuse."""
    answer = handle(sealed, KEY, Course(ROOT))
    assert answer["status"] == "rejected" and reason in answer["reason"] and "signature" not in answer, answer


def test_tasks_are_json_and_never_pickle():
    """The app accepts JSON only: a pickled task would be refused by the worker's consumer."""
    from grader.batch.cluster import app

    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.result_accept_content == ["json"] and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    task = GradingTask("k", "hybrid_placement", "s", "n", {"placement.py": b"\xff\x00"})
    assert GradingTask.from_payload(task.to_payload()) == task
