"""Warm pools: a fork of a warm parent per worker, and nothing of one submission reaches the next.

Each test forks workers from one pool (``grader.sandbox.pool``): an attacking
module first, then an honest probe that reports what it finds. What the
attacker says about itself is never read; the probe is test code, and the
pool's state is read from outside. The same tests run under bubblewrap and
under Landlock (``HML_SANDBOX=landlock``), where what differs is said.
"""
from __future__ import annotations

import os
import select
import signal
import textwrap
from pathlib import Path

import pytest

from grader.errors import WorkerCrashed
from grader.sandbox.landlock import SCOPE_ABI, abi_version as landlock_abi
from grader.sandbox.launch import Limits, Sandbox
from grader.sandbox.pool import WarmPool, pools_work_here
from grader.sandbox.proxy import Learner, WorkerSpec


MARK = "hml-pool-canary"

# Leaves everything a process can leave behind: files, environment, a patched library, a thread, a signal
# handler, SysV objects, descriptors, a listening port and an abstract socket, a child process.
ATTACKER = f'''
import colorsys, ctypes, os, signal, socket, subprocess, sys, threading, time

kept = []

def attempt(action):  # what the sandbox refuses (under Landlock: sockets, SysV IPC, /tmp) is skipped
    try:
        kept.append(action())
    except OSError:
        pass

def leave():
    for folder in ("/tmp", "/scratch", os.environ["HOME"], "/dev/shm"):
        attempt(lambda: open(os.path.join(folder, "{MARK}"), "w").write("{MARK}"))
    os.environ["{MARK}"] = "1"
    colorsys.rgb_to_hsv = lambda *a: "{MARK}"  # a module the pool's parent imported
    sys.modules["{MARK}"] = colorsys
    threading.Thread(target=time.sleep, args=(600,), daemon=True, name="{MARK}").start()
    signal.signal(signal.SIGTERM, lambda *a: None)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget(0x4d4c, 4096, 0o1666)  # IPC_CREAT | 0666
    libc.semget(0x4d4c, 1, 0o1666)
    libc.msgget(0x4d4c, 0o1666)
    attempt(lambda: open("/proc/self/status"))
    attempt(os.pipe)
    attempt(lambda: socket.create_server(("127.0.0.1", 47613)))
    def abstract():
        server = socket.socket(socket.AF_UNIX)
        server.bind("\\0{MARK}")
        server.listen()
        return server
    attempt(abstract)
    subprocess.Popen(["sleep", "600"], start_new_session=True)
    return os.getpid()
'''

PROBE = f'''
import colorsys, ctypes, os, signal, socket, sys, threading

def look():
    libc = ctypes.CDLL(None, use_errno=True)
    def connects(address, family=socket.AF_INET):
        try:
            with socket.socket(family) as s:  # under Landlock no socket can even be made
                s.settimeout(1)
                s.connect(address)
                return True
        except OSError:
            return False
    files = []
    home = os.environ["HOME"]
    for folder in ("/tmp", "/scratch", home, "/dev/shm", "/pool", "/submission"):
        try:
            files += [os.path.join(folder, n) for n in os.listdir(folder)]
        except OSError:
            pass
    inboxes = os.path.dirname(os.path.dirname(home))  # under Landlock, every fork's folder is in there
    if inboxes != "/":
        for directory, _dirs, names in os.walk(inboxes):
            files += [os.path.join(directory, n) for n in names]
    processes = []
    try:
        listed = os.listdir("/proc")
    except OSError:
        listed = []  # Landlock: a learner's worker reads only its own process
    for pid in filter(str.isdigit, listed):
        try:
            processes.append(open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
        except OSError:
            pass
    return {{
        "files": files,
        "environment": "{MARK}" in os.environ,
        "patched": colorsys.rgb_to_hsv(0, 0, 0) != (0, 0, 0) or "{MARK}" in sys.modules,
        "threads": [t.name for t in threading.enumerate() if t.name == "{MARK}"],
        "os_threads": len(os.listdir("/proc/self/task")),
        "sigterm": signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL,
        "sysv": [libc.shmget(0x4d4c, 0, 0) >= 0, libc.semget(0x4d4c, 0, 0) >= 0, libc.msgget(0x4d4c, 0) >= 0],
        "descriptors": sorted(int(n) for n in os.listdir("/proc/self/fd")),
        "port": connects(("127.0.0.1", 47613)),
        "abstract": connects("\\0{MARK}", socket.AF_UNIX),
        "processes": processes,
        "uid": os.getuid(),
        "pid": os.getpid(),
    }}
'''

PEEK = '''
def peek(pid):
    """Whether this fork can read another process's command line, or signal it."""
    try:
        open(f"/proc/{pid}/cmdline", "rb").read()
        readable = True
    except OSError:
        readable = False
    try:
        os.kill(pid, 0)
        signalled = True
    except OSError:
        signalled = False
    return {"readable": readable, "signalled": signalled}
'''

CRASHERS = {
    "exit": "import os\ndef crash():\n    os._exit(3)\n",
    "kill": "import os, signal\ndef crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    "segfault": "import ctypes\ndef crash():\n    ctypes.string_at(0)\n",
    # Its keeper, then (in its own namespaces only, under bubblewrap) every process it can see.
    "signals its keeper and everyone": (
        "import os, signal\ndef crash():\n    try:\n        os.kill(os.getppid(), signal.SIGKILL)\n"
        "    except OSError:\n        pass\n    if os.path.isdir('/pool'):\n        for pid in range(1, 400):\n"
        "            try:\n                os.kill(pid, signal.SIGKILL)\n"
        "            except OSError:\n                pass\n        os.kill(-1, signal.SIGKILL)\n    os._exit(9)\n"),
}


def _module(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


@pytest.fixture(scope="module")
def pooled(sandboxed):
    """The sandbox the pools fork in: bubblewrap as root, or Landlock."""
    if not pools_work_here(sandboxed):
        pytest.skip("warm pools need bubblewrap run as root, or Landlock")
    return sandboxed


@pytest.fixture(scope="module")
def pool(pooled):
    started = WarmPool(["colorsys"], Limits(), True, pooled)
    yield started
    started.close()


def _learner(pool: WarmPool, folder: Path, name: str) -> Learner:
    learner = Learner(WorkerSpec(module_dir=folder, module_name=name, preload=["colorsys"], sandbox=pool.sandbox,
                                 pool=pool.address, start_timeout=60))
    learner.start()
    return learner


def _forked(learner: Learner) -> bool:
    return learner._worker is not None and learner._worker._fork is not None


def _probe(pool: WarmPool, tmp_path: Path, *, peek: int | None = None) -> dict:
    """What a fresh fork finds; with ``peek``, also whether it can read or signal that process."""
    probe = _learner(pool, _module(tmp_path / "probe", "probe", PROBE + PEEK), "probe")
    try:
        assert probe.defines("look")
        assert _forked(probe), "the probe did not come from the pool"
        found = probe.look()
        if peek is not None:
            found["peek"] = probe.peek(peek)
        return found
    finally:
        probe.close()


def test_a_submission_leaves_nothing_for_the_next(pool, tmp_path):
    """Files, environment, a patched library, threads, a signal handler, SysV objects, descriptors, a port, an
    abstract socket and a process left by one fork (still running, even) are not found by the next one."""
    before = _probe(pool, tmp_path)
    attacker = _learner(pool, _module(tmp_path / "attacker", "attacker", ATTACKER), "attacker")
    try:
        assert _forked(attacker)
        attacker.leave()
        found = _probe(pool, tmp_path)  # the attacker's fork is still alive while the probe looks
    finally:
        attacker.close()
    assert not [f for f in found["files"] if MARK in f], found["files"]
    assert not found["environment"] and not found["patched"] and not found["threads"] and not found["sigterm"]
    assert found["os_threads"] == before["os_threads"], (before["os_threads"], found["os_threads"])
    assert found["sysv"] == [False, False, False]
    assert found["descriptors"] == before["descriptors"], (before["descriptors"], found["descriptors"])
    assert not found["port"] and not found["abstract"]
    assert not [p for p in found["processes"] if "sleep" in p], found["processes"]
    if pool.sandbox is Sandbox.BWRAP:
        assert found["pid"] == 2 and len(found["processes"]) == 2, found["processes"]  # its keeper and itself


def test_each_fork_has_a_uid_of_its_own_and_sees_no_other(pool, tmp_path):
    """Two forks alive at once. Under bubblewrap: different uids, and the second sees only its keeper and
    itself. Under Landlock (no PID namespace, so the first fork's PID is the host's): the second can neither
    read the first's command line nor signal it (other uids, or Landlock's signal scoping)."""
    first = _learner(pool, _module(tmp_path / "a", "probe", PROBE), "probe")
    try:
        seen_first = first.look()
        seen_second = _probe(pool, tmp_path, peek=seen_first["pid"] if pool.sandbox is Sandbox.LANDLOCK else None)
        assert first.look()["pid"] == seen_first["pid"], "the first fork did not live through the second"
    finally:
        first.close()
    if pool.sandbox is Sandbox.BWRAP:
        assert seen_first["uid"] != seen_second["uid"] and 0 not in (seen_first["uid"], seen_second["uid"])
        assert len(seen_second["processes"]) == 2, seen_second["processes"]  # its keeper and itself
        return
    assert not seen_second["peek"]["readable"]
    if seen_first["uid"] != seen_second["uid"] or landlock_abi() >= SCOPE_ABI:
        assert not seen_second["peek"]["signalled"]


@pytest.mark.parametrize("how", sorted(CRASHERS))
def test_a_crashed_or_killed_fork_leaves_the_pool_serving(pool, tmp_path, how):
    """A fork that exits, is killed, segfaults or signals every process it can see fails its own call as a
    crash; the pool's parent lives on and the next fork is served."""
    crasher = _learner(pool, _module(tmp_path / "crasher", "crasher", CRASHERS[how]), "crasher")
    try:
        assert _forked(crasher)
        with pytest.raises(WorkerCrashed):
            crasher.crash()
    finally:
        crasher.close()
    assert pool.process.poll() is None, "the pool's parent died"
    assert _probe(pool, tmp_path)["uid"] is not None  # served by a fork of the same pool


def test_a_closed_fork_is_ended_whole(pool, tmp_path):
    """Closing a worker kills its keeper and everything below it (under bubblewrap the kernel ends the
    fork's namespace with it): the daemon the attacker started is gone too, read from the host's process
    table, not from the fork."""
    attacker = _learner(pool, _module(tmp_path / "attacker", "attacker", ATTACKER), "attacker")
    keeper = attacker._worker.process.pid
    attacker.leave()
    attacker.close()
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"{MARK}" in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace"):
                survivors.append(pid)
        except OSError:
            continue
    assert not Path(f"/proc/{keeper}").exists() or Path(f"/proc/{keeper}/stat").read_text().split()[2] == "Z"
    assert survivors == [], survivors
    assert pool.process.poll() is None


def test_without_a_pool_answer_the_worker_starts_cold(pooled, tmp_path):
    """A pool that is gone (its parent killed) costs a cold start, never a grading."""
    gone = WarmPool(["colorsys"], Limits(), True, pooled)
    os.killpg(gone.process.pid, signal.SIGKILL)
    gone.process.wait()
    watch = select.poll()
    watch.register(gone.address.fd, select.POLLHUP)
    assert watch.poll(30_000), "the pool's parent still holds its end"  # gone for sure, not just signalled
    try:
        probe = _learner(gone, _module(tmp_path / "probe", "probe", PROBE), "probe")
        try:
            assert probe.defines("look") and not _forked(probe)
        finally:
            probe.close()
    finally:
        gone.close()


def test_kinds_confined_alike_share_a_pool_and_others_never_do(pooled):
    """A KFP exercise's learner and pipeline runner (learner code in both, the same limits) fork from one warm
    parent importing what either imports; a kind that runs no learner code never shares one with a kind that
    does; each parent is ended when the pools close. Read from the real pools: their addresses and the
    command lines their parents were started with."""
    from grader.course.model import Course
    from grader.grading.config import worker_settings
    from grader.grading.warm_pools import WarmPools

    def preload_of(pool: WarmPool) -> list[str]:
        argv = list(pool.process.args)
        return argv[argv.index("--preload") + 1].split(",")

    course = Course()
    kfp = course.exercise("kfp_basic_pipeline")
    tflite = course.exercise("tflite_convert")
    with WarmPools(pooled) as pools:
        shared = pools.addresses(kfp)
        apart = pools.addresses(tflite)
        started = {id(pool): pool for exercise_pools in pools._pools.values() for pool in exercise_pools.values()}
        kfp_pools, tflite_pools = pools._pools[kfp.id], pools._pools[tflite.id]
        assert set(shared) == {"learner", "pipeline_runner"} and len(set(shared.values())) == 1
        assert kfp_pools["learner"] is kfp_pools["pipeline_runner"]
        learner, runner = (worker_settings(kfp, kind)[0] for kind in ("learner", "pipeline_runner"))
        union = preload_of(kfp_pools["learner"])
        assert union[:len(learner)] == learner and set(union) == set(learner) | set(runner)
        assert set(apart) == {"learner", "evaluator"} and len(set(apart.values())) == 2
        assert worker_settings(tflite, "learner")[2] and not worker_settings(tflite, "evaluator")[2]
        assert preload_of(tflite_pools["learner"]) == worker_settings(tflite, "learner")[0]
        assert preload_of(tflite_pools["evaluator"]) == worker_settings(tflite, "evaluator")[0]
        assert len(started) == 3
    assert all(pool.process.poll() is not None for pool in started.values())


SABOTEUR = '''
import os, sys

# Every function of the pipeline runner's libraries and recipes replaced in this (learner) worker, and files
# left where a worker may write: none of it may reach the pipeline runner forked from the same warm parent.
def _sabotaged(*args, **kwargs):
    raise RuntimeError("sabotaged")

for _name, _module in list(sys.modules.items()):
    if _name.startswith(("kfp.local", "grader.sandbox.recipes")) and _module is not None:
        for _attr, _value in list(vars(_module).items()):
            if callable(_value) and not _attr.startswith("__"):
                setattr(_module, _attr, _sabotaged)
for _folder in ("/tmp", os.environ.get("HOME", "/tmp"), "/dev/shm", os.getcwd()):
    try:
        open(os.path.join(_folder, "hml-sabotage"), "w").write("x")
    except OSError:
        pass
'''


def test_a_learner_fork_reaches_neither_the_runner_forked_beside_it_nor_the_next(pooled, tmp_path):
    """A KFP exercise's learner and pipeline runner fork from one warm parent: a module that patches the
    runner's libraries in its own worker still gets its correct pipeline run, and so does the next submission.
    Judged from the grader's results only."""
    import json
    import subprocess
    import sys

    from grader.course.model import Course

    reference = Course().exercise("kfp_basic_pipeline").reference.read_text()
    for name, text in (("saboteur", SABOTEUR + reference), ("honest", reference)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pipeline.py").write_text(text)
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "-e", "kfp_basic_pipeline", "--sandbox",
                           pooled.value, "-o", str(tmp_path / "out"), "-q", str(tmp_path / "saboteur"),
                           str(tmp_path / "honest")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("saboteur", "honest"):
        result = json.loads((tmp_path / "out" / name / "results.json").read_text())
        assert result["extra_data"]["outcome"] == "graded", name
        assert result["score"] == result["extra_data"]["max_score"] > 0, (
            name, [test["name"] for test in result["tests"] if test["status"] != "passed"])
