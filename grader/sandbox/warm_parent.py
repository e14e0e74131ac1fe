"""A warm parent: imports a worker's libraries once, then forks a fresh, confined worker per request.

Runs inside the same bubblewrap sandbox a cold worker gets (no solutions, no
hidden tests, the reference code hidden where learner code will run), as
root of that sandbox, and never reads a learner byte: a request is a few
numbers and names from a trusted pytest process (``grader/sandbox/pool.py``),
with the worker's channels attached as descriptors. Each fork, before it
reads anything a learner made:

1. closes every descriptor but its own channels (the pool's control socket included);
2. takes namespaces of its own (mount, PID, IPC, network, UTS): it can see,
   signal or connect to no other fork and not this parent;
3. as PID 1 of its namespace (the *keeper*, which never runs learner code),
   tells the trusted side who it is through the kernel (``SCM_CREDENTIALS``:
   the host's PID, not a claim), mounts a fresh ``/proc``, fresh in-memory
   ``/scratch`` and ``/tmp``, the learner's module read-only at
   ``/submission``, and hides the pool's other inboxes;
4. forks the worker, which sets the usual rlimits, drops to a uid of its own
   and then serves exactly as a cold worker does (``grader.sandbox.server``).

The keeper reports how the worker ended on a pipe only it holds, then exits,
and the kernel ends everything left in the namespace with it.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import Callable

from grader.sandbox.launch import SANDBOX_POOL as POOL_MOUNT, SANDBOX_SCRATCH, SANDBOX_SUBMISSION, Limits, set_limits
CHANNELS = ("request", "answer", "output", "status", "hello")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 8192, 16384, 1 << 18)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4

_libc = ctypes.CDLL(None, use_errno=True)


def serve(control_fd: int, read_only_roots: list[str], run_worker: Callable[[list[str]], None]) -> None:
    """Fork a worker for each request on ``control_fd`` until every trusted end of it is closed.

    ``run_worker(argv)`` is the cold worker's own entry (``grader.sandbox.server.main``), run in each fork.
    """
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 4096, len(CHANNELS))
        except InterruptedError:
            continue
        if not message:
            return
        if len(fds) != len(CHANNELS):
            _close(fds)
            continue
        if os.fork() == 0:
            try:
                _fork(json.loads(message), dict(zip(CHANNELS, fds)), read_only_roots, run_worker)
            finally:
                os._exit(70)
        _close(fds)


def _fork(request: dict, fds: dict[str, int], read_only_roots: list[str], run_worker) -> None:
    """In the fork: give up everything shared, then become the keeper of the worker it starts.

    Under bubblewrap the keeper is PID 1 of namespaces of its own. Under Landlock (no namespaces) it is a
    subreaper that outlives the worker, so that whatever the worker left stays below it until the trusted
    side kills the keeper's tree.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _close_all_but(set(fds.values()))
    if not request["namespaces"]:
        from grader.sandbox.processes import become_subreaper

        become_subreaper()
        _keep(request, fds, read_only_roots, run_worker)
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keeper = os.fork()  # the first child in the new PID namespace is its PID 1
    if keeper:
        _close(list(fds.values()))  # the worker's channels end with the worker, not with this process
        os.waitpid(keeper, 0)
        os._exit(0)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _keep(request, fds, read_only_roots, run_worker)


def _keep(request: dict, fds: dict[str, int], read_only_roots: list[str], run_worker) -> None:
    _prctl(PR_SET_DUMPABLE, 0)
    hello = socket.socket(fileno=fds["hello"])
    hello.sendmsg([b"hello"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                                struct.pack("3i", os.getpid(), os.getuid(), os.getgid()))])
    hello.recv(2)  # the trusted side holds a pidfd to this process now: its PID cannot be reused under it
    hello.close()
    status = os.fdopen(fds["status"], "w")
    try:
        if request["namespaces"]:
            _private_mounts(request, read_only_roots)
    except OSError as exc:
        status.write(json.dumps({"setup": str(exc)}) + "\n")
        status.flush()
        os._exit(0)
    worker = os.fork()
    if worker == 0:
        status.close()
        _serve_as_worker(request, fds, run_worker)
        os._exit(0)
    for fd in (fds["request"], fds["answer"], fds["output"]):
        os.close(fd)
    while True:  # the keeper reaps every orphan; the worker's own end is what the trusted side hears about
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid == worker:
            status.write(json.dumps({"exit": code}) + "\n")
            status.flush()
            if request["namespaces"]:
                break
    if request["namespaces"]:
        os._exit(0)  # the kernel kills whatever is left in the namespace
    while True:
        signal.pause()  # until the trusted side kills this process and what is below it


def _private_mounts(request: dict, read_only_roots: list[str]) -> None:
    """Fresh /proc, /scratch and /tmp; the module at /submission, read-only; no other fork's inbox."""
    size = int(request["tmpfs_mb"]) * 1024 * 1024
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", SANDBOX_SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0777")
    # A checkout under /tmp is bound on top of the sandbox's /tmp: kept aside, then put back on the new one.
    under_tmp = [r for r in read_only_roots if Path(r).is_relative_to("/tmp")]
    held = []
    for i, root in enumerate(under_tmp):
        hold = f"{SANDBOX_SCRATCH}/.hold{i}"
        os.mkdir(hold)
        _mount(root, hold, None, MS_BIND | MS_REC)
        held.append((hold, root))
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for hold, root in held:
        for parent in [*reversed(Path(root).parents), Path(root)]:
            if str(parent) not in ("/", "/tmp") and not parent.exists():
                parent.mkdir()
                parent.chmod(0o755)
        _mount(hold, root, None, MS_MOVE)
        os.rmdir(hold)
    inbox = f"{POOL_MOUNT}/{request['inbox']}"
    if request.get("module_name"):
        _mount(f"{inbox}/submission", SANDBOX_SUBMISSION, None, MS_BIND | MS_REC)
        _mount(None, SANDBOX_SUBMISSION, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("tmpfs", POOL_MOUNT, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4096,mode=0755")
    _loopback_up()


def _loopback_up() -> None:
    """The fork's network namespace has only a loopback device, down: brought up, as bubblewrap does."""
    import fcntl

    SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))


def _serve_as_worker(request: dict, fds: dict[str, int], run_worker) -> None:
    """The worker: stdio on its output pipe, the limits of its spec, then the cold worker's own code."""
    import tempfile

    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fds["output"], 1)
    os.dup2(fds["output"], 2)
    for fd in (null, fds["output"]):
        os.close(fd)
    os.environ.update(request.get("env") or {})  # under Landlock: HOME and TMPDIR in its own folder
    tempfile.tempdir = None  # what the warm parent's imports may have cached
    set_limits(Limits(**request["limits"]))()
    argv = [*request["worker_args"], "--preload", request.get("preload", ""),
            "--request-fd", str(fds["request"]), "--answer-fd", str(fds["answer"])]
    if request.get("module_name"):
        argv += ["--module-name", request["module_name"]]
    run_worker(argv)


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)
    _check(_libc.mount(encode(source), encode(target), encode(kind), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), "prctl")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _close(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _close_all_but(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
