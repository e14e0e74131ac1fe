"""Red-team findings: attacks on the trust boundary, graded for real.

A test marked ``xfail(strict=True)`` shows a hole that is still open: it
asserts what the grader should guarantee, fails today, and flips (XPASS, so
the suite goes red) the day the hole is closed; then drop its marker. The
others show attacks that are contained, in classes the other security
suites do not cover.

Hostile submissions live in ``tests/hostile_redteam/``; most are appended to
the reference solution, so their answers are right and only the attack
differs. ``HML_SANDBOX=landlock`` runs the file under Landlock; the tests
that are about Landlock itself grade with it whatever HML_SANDBOX says.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from grader.grading.run import grade_one
from grader.sandbox.launch import Sandbox, SandboxUnavailable, choose

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).with_name("hostile_redteam")
PLACEMENT = "hybrid_placement"
PLACE = (ROOT / "solutions" / PLACEMENT / "placement.py").read_text()


def _with_reference(name: str, **constants) -> str:
    """The reference placement module with a hostile appendix; ``constants`` set its ``_NAME = 0`` lines."""
    appendix = (HOSTILE / name).read_text()
    for key, value in constants.items():
        appendix = appendix.replace(f"{key} = 0", f"{key} = {value!r}")
    return PLACE + "\n\n" + appendix


def _hidden(result, function: str):
    return result.test(f"hidden::{function}::")


@pytest.fixture
def grade_landlock(course, batch_cache_dir, tmp_path):
    """grade_landlock(exercise_id, text) -> GradeResult, under Landlock whatever HML_SANDBOX says."""
    try:
        chosen = choose("landlock")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    counter = iter(range(1_000_000))

    def run(exercise_id: str, source: str):
        exercise = course.exercise(exercise_id)
        folder = tmp_path / f"landlock-{next(counter)}"
        folder.mkdir()
        (folder / exercise.file).write_text(source)
        return grade_one(exercise, folder / exercise.file, folder.name, folder / "out" / "results.json",
                         course=course, sandbox=chosen, cache_dir=batch_cache_dir)

    return run


# --------------------------------------------------------------------------- hidden feedback: timing

QUARTER_SIZES = (64, 64.25, 250.5, 0.5)  # the hidden model sizes of test_quarter_of_device_memory
SECONDS_PER_MB = 0.002                    # what placement_timing.py sleeps per MB


def test_hidden_test_durations_do_not_carry_hidden_inputs(grade_source):
    """A hidden test's recorded duration must not reveal the hidden inputs the learner's code was given.

    placement_timing.py answers correctly but sleeps 2 ms per MB of the workload's
    model_size_mb: a published duration of the hidden test would be the sum of its
    hidden model sizes (379.25 MB -> 0.76 s), to a few MB. So results.json publishes
    no duration for a hidden test, and a total time that is the visible tests' own:
    checked on what the grader publishes, not on how long the sleeps took (a busy
    machine stretches them).
    """
    result = grade_source(PLACEMENT, _with_reference("placement_timing.py"))
    test = _hidden(result, "test_quarter_of_device_memory")
    assert test.passed  # the answers are right: only the channel is under test
    assert test.duration >= sum(QUARTER_SIZES) * SECONDS_PER_MB  # the grader's own record has the sleeps
    published = result.to_gradescope()
    entry = next(t for t in published["tests"] if t["extra_data"]["nodeid"] == test.nodeid)
    assert entry["extra_data"]["duration"] is None, f"the hidden test's duration {entry['extra_data']['duration']} s"
    visible = [t["extra_data"]["duration"] for t in published["tests"] if t["visibility"] == "visible"]
    assert visible and published["execution_time"] == pytest.approx(sum(visible), abs=0.01)


# --------------------------------------------------------------------------- hidden feedback: exception choice

@pytest.mark.xfail(strict=True, reason="hidden feedback names whichever built-in exception the learner raised: "
                                       "choosing one of ~50 by a hidden input carries ~6 bits per hidden test")
def test_choice_of_built_in_exception_does_not_carry_hidden_inputs(grade_source):
    """Hidden feedback must not let the learner's choice of exception spell out a hidden input.

    placement_exception_choice.py raises the built-in exception numbered
    ``latency_budget_ms % 51`` (raised without ``__init__``, so every class works).
    test_latency_budget_boundary's first hidden row has a budget of 100 ms, so its
    feedback reads "place() raised ValueError" while every other test, whose first
    row has 250 ms, reads "place() raised TypeError": the name is a function of the
    hidden input, from ~50 choices, not one bit.
    """
    import builtins

    choices = sorted(n for n, v in vars(builtins).items()
                     if isinstance(v, type) and issubclass(v, Exception) and not issubclass(v, Warning)
                     and n[0].isupper() and not n.startswith("Unicode")
                     and n not in ("BaseExceptionGroup", "ExceptionGroup"))
    result = grade_source(PLACEMENT, _with_reference("placement_exception_choice.py"))
    outputs = {t.nodeid.split("::")[1]: t.output for t in result.tests if t.visibility == "hidden"}
    spelled = choices[100 % len(choices)]
    assert spelled != choices[250 % len(choices)]
    assert f"raised {spelled}" not in outputs["test_latency_budget_boundary"], (
        "the hidden 100 ms budget picked the exception name shown in hidden feedback")


def test_built_in_exceptions_that_cannot_be_rebuilt_do_not_break_the_test():
    """The trusted side must turn every built-in exception name a worker reports into a LearnerError.

    A learner raises UnicodeDecodeError (``kind.__new__(kind)`` needs no arguments);
    ``learner_error`` then builds ``LearnerUnicodeDecodeError`` whose base's
    ``__new__`` wants five arguments, and the trusted side raises TypeError
    instead: the test's own ``except LearnerError`` is skipped and the hidden
    feedback changes ("could not complete (TypeError)"), one more symbol to choose.
    """
    from grader.errors import LearnerError, learner_error

    broken = []
    for name in ("UnicodeDecodeError", "UnicodeEncodeError", "UnicodeTranslateError", "ExceptionGroup",
                 "ValueError", "KeyError"):
        try:
            error = learner_error(name, "message", "", "place", name)
        except Exception as exc:  # noqa: BLE001 - what the test is about
            broken.append(f"{name}: {type(exc).__name__}")
            continue
        assert isinstance(error, LearnerError)
    assert not broken, f"learner_error raises for {broken}"


# --------------------------------------------------------------------------- Landlock: UDP

def test_landlock_worker_cannot_send_hidden_inputs_over_udp(grade_landlock):
    """Under Landlock, learner code must not be able to send a datagram anywhere.

    placement_udp.py sends every workload it is given to a UDP port; the test
    listens on 127.0.0.1 (nothing else is ever contacted). Under bubblewrap the
    worker has no network at all; under Landlock the hidden workloads arrive.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.setblocking(False)
        port = listener.getsockname()[1]
        result = grade_landlock(PLACEMENT, _with_reference("placement_udp.py", _PORT=port))
        received = []
        while True:
            try:
                received.append(listener.recv(65536))
            except BlockingIOError:
                break
    assert result.score > 0  # graded normally: the channel is the attack
    hidden = [json.loads(d) for d in received if b"device_memory_mb" in d]
    assert not hidden, f"{len(hidden)} workloads left the Landlock sandbox by UDP, e.g. {hidden[0]}"


# --------------------------------------------------------------------------- Landlock: processes outliving the worker

def test_landlock_daemon_without_own_uid_dies_with_the_worker(tmp_path, monkeypatch):
    """A process the learner's code started must not outlive its worker, whatever uid the worker has.

    Under Landlock there is no PID namespace; as its own uid a worker's leftovers
    are killed by uid. When the grader cannot give it one (``_landlock_identity``
    returns ROOT_WITHOUT_CAPABILITIES or GRADER_UID, both common in containers),
    a child started with ``start_new_session`` leaves the process group and
    keeps running through the rest of the batch (CPU, memory, and under
    GRADER_UID the same process count as every other worker).
    """
    import grader.sandbox.launch as sandbox
    from grader.sandbox.proxy import Worker, WorkerSpec

    try:
        choose("landlock")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    identity = sandbox.ROOT_WITHOUT_CAPABILITIES if os.geteuid() == 0 else sandbox.GRADER_UID
    monkeypatch.setattr(sandbox, "_landlock_identity", lambda: identity)
    module_dir = tmp_path / "module"
    module_dir.mkdir()
    (module_dir / "daemon.py").write_text((HOSTILE / "daemon.py").read_text())
    worker = Worker(WorkerSpec(module_dir=module_dir, module_name="daemon", sandbox=Sandbox.LANDLOCK))
    pid = None
    try:
        worker.wait_ready()
        pid = worker.request({"op": "call", "name": "leave_daemon", "args": [60], "kwargs": {}})
    finally:
        worker.close()
    time.sleep(0.3)
    alive = _running(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)  # the daemon this test made
    assert not alive, f"the daemon {pid} outlived its worker"


def _running(pid) -> bool:
    try:
        state = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, TypeError, ValueError):
        return False
    return state != "Z"


# --------------------------------------------------------------------------- hidden feedback: which task failed

def test_which_task_failed_does_not_carry_hidden_inputs(grade_source):
    """Hidden feedback on a local run must not name a task the learner's code chose to fail by a hidden input.

    kfp_failed_task_choice.py adds probe_0..probe_15; probe_k fails iff
    ``ord(a[0]) % 16 == k``. On the hidden input a="Kube" probe-11 fails and
    test_pipeline_run_on_other_inputs says "the run failed (task probe-11)";
    the public run on "stres" says probe-3.
    """
    result = grade_source("kfp_basic_pipeline", (HOSTILE / "kfp_failed_task_choice.py").read_text())
    assert result.error is None
    spelled = f"probe-{ord('K') % 16}"  # 'K': the first letter of the hidden pipeline input a
    hidden = {t.nodeid.split("::")[1]: t.output for t in result.tests if t.visibility == "hidden"}
    assert spelled not in hidden["test_pipeline_run_on_other_inputs"], (
        "the hidden input picked the task name shown in hidden feedback")


@pytest.mark.xfail(strict=True, reason="known limit: under Landlock a daemon whose trusted process is SIGKILLed by "
                                       "something other than the coordinator (whose kill takes the whole tree: "
                                       "grader.grading.run._kill) runs on, confined, until its CPU-time limit")
def test_landlock_daemon_dies_when_the_trusted_process_is_killed(tmp_path):
    """What a learner started must not outlive a trusted pytest that the coordinator killed.

    orphaned_worker_parent.py stands in for the trusted pytest: it starts a Landlock
    worker (own uid when the interpreter is reachable) whose call leaves a daemon in a
    session of its own, then is SIGKILLed as grader.grading.run._kill does. Worker.kill and
    pytest_unconfigure never run, the worker has no --die-with-parent, and the
    daemon lives on through the rest of the batch.
    """
    try:
        choose("landlock")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    import subprocess
    import sys

    module_dir = tmp_path / "module"
    module_dir.mkdir()
    (module_dir / "daemon.py").write_text((HOSTILE / "daemon.py").read_text())
    for path in (tmp_path, module_dir, module_dir / "daemon.py"):
        path.chmod(0o755)  # reachable whatever uid the worker gets
    parent = subprocess.Popen([sys.executable, str(HOSTILE / "orphaned_worker_parent.py"), str(ROOT), str(module_dir)],
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    pids = {}
    try:
        pids = json.loads(parent.stdout.readline() or "{}")
    finally:
        parent.kill()
        parent.wait()
    assert pids, "the stand-in for the trusted process did not start its worker"
    time.sleep(1.0)
    survivors = [pid for pid in pids.values() if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # the worker and daemon this test made
    assert not survivors, f"{survivors} outlived the killed trusted process"


def test_landlock_worker_cannot_reach_pathname_unix_sockets(grade_landlock, tmp_path):
    """Under Landlock, learner code must not reach a Unix socket outside its scratch by its path.

    The test binds a datagram socket at a path any uid can reach; placement_unix.py
    sends every workload there. Under bubblewrap the path is not in the sandbox.
    """
    folder = tmp_path / "listener"
    folder.mkdir()
    for path in (tmp_path, folder):
        path.chmod(0o755)
    address = str(folder / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        os.chmod(address, 0o777)
        listener.setblocking(False)
        result = grade_landlock(PLACEMENT, _with_reference("placement_unix.py", _SOCKET_PATH=address))
        received = []
        while True:
            try:
                received.append(listener.recv(65536))
            except BlockingIOError:
                break
    assert result.score > 0
    hidden = [json.loads(d) for d in received if b"device_memory_mb" in d]
    assert not hidden, f"{len(hidden)} workloads reached a host Unix socket, e.g. {hidden[0]}"
