"""Warm pools, the trusted side: a warm parent started once, and a confined fork of it per worker.

Whoever grades a batch starts a ``WarmPool`` per kind of worker an exercise
uses (``grader/grading/warm_pools.py``); the trusted pytest processes it
starts inherit the pool's control socket and ask it for forks
(``fork_worker``). The warm parent (``grader/sandbox/warm_parent.py``) runs
in a bubblewrap sandbox like a cold worker's, has imported the worker's
libraries, and never reads a learner byte: the module is copied here into
the fork's own inbox folder, which only that fork mounts.

What a fork is, is learned from the kernel, not from the fork: its PID
comes with ``SCM_CREDENTIALS``, held still until a pidfd to it is open.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.sandbox.disk import remove_tree
from grader.sandbox.launch import (
    SANDBOX_SCRATCH, SANDBOX_SUBMISSION, Limits, Sandbox, landlock_worker, launch, worker_uid,
)
from grader.sandbox.processes import kill_descendants

DISABLE = "HML_WARM_POOLS"  # set to 0 to start every worker cold


class PoolUnavailable(GraderError, RuntimeError):
    """The pool did not give a fork (it failed to start, or is gone): the worker starts cold instead."""


def pools_work_here(sandbox: Sandbox) -> bool:
    """Under bubblewrap, warm pools need root (forks take namespaces and a uid of their own); under Landlock
    each fork narrows its warm parent's rules and takes the identity a cold worker would."""
    if os.environ.get(DISABLE, "1") == "0":
        return False
    return (sandbox is Sandbox.BWRAP and os.geteuid() == 0) or sandbox is Sandbox.LANDLOCK


@dataclass(frozen=True)
class PoolAddress:
    """How a trusted pytest process reaches a pool: the inherited control socket and the inbox folder."""

    fd: int
    inbox: str
    sandbox: str
    lib: str = ""  # Landlock: the folder the warm parent imports the grader package through

    def to_dict(self) -> dict:
        return asdict(self)


class WarmPool:
    """One warm parent with the libraries of one kind of worker imported."""

    def __init__(self, preload: list[str], limits: Limits, runs_learner_code: bool, sandbox: Sandbox):
        self.sandbox = sandbox
        self.inbox = Path(tempfile.mkdtemp(prefix="hml-pool-"))
        self.inbox.chmod(0o711)  # a fork of its own uid passes through to its folder (Landlock)
        self._scratch = Path(tempfile.mkdtemp(prefix="hml-pool-scratch-"))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        args = ["--preload", ",".join(preload), "--warm-control", str(theirs.fileno())]
        plan = launch(args, None, limits, sandbox, self._scratch, runs_learner_code, pool_dir=self.inbox)
        self.process = subprocess.Popen(plan.argv, env=plan.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),),
                                        preexec_fn=plan.preexec, cwd="/")
        theirs.close()
        self._control = ours

    @property
    def address(self) -> PoolAddress:
        lib = self._scratch / "lib" if self.sandbox is Sandbox.LANDLOCK else ""
        return PoolAddress(self._control.fileno(), str(self.inbox), self.sandbox.value, str(lib))

    def close(self) -> None:
        if self.process.poll() is None:
            if self.sandbox is Sandbox.LANDLOCK:
                kill_descendants(self.process.pid)  # no PID namespace: every fork is found below the parent
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # bubblewrap's session: the parent and every fork
            except ProcessLookupError:
                pass
            self.process.wait()
        self._control.close()
        remove_tree(self.inbox)
        remove_tree(self._scratch)


@dataclass
class Fork:
    """A forked worker: its process handle, and where it lives as the worker and the host see it."""

    process: "ForkedProcess"
    inbox: Path  # its folder in the pool's inbox, removed once it ends (Landlock: its scratch is inside)
    scratch: str  # its scratch folder as the worker sees it
    uid: int | None  # its own uid where there is no PID namespace to find its processes by (Landlock)


def fork_worker(address: PoolAddress, *, module_dir: Path | None, module_name: str | None, preload: list[str],
                limits: Limits, runs_learner_code: bool, own_identity: bool, channels: dict[str, int],
                timeout: float) -> Fork:
    """Ask the pool for a worker serving on ``channels`` (request, answer and output descriptors, theirs).

    ``PoolUnavailable`` when the pool does not answer: the caller starts the worker cold.
    """
    inbox = Path(address.inbox) / secrets.token_hex(8)
    inbox.mkdir(mode=0o755)
    request = {"inbox": inbox.name, "module_name": module_name, "preload": ",".join(preload),
               "limits": asdict(limits), "tmpfs_mb": limits.tmpfs_mb}
    if Sandbox(address.sandbox) is Sandbox.LANDLOCK:
        worker = landlock_worker(module_dir, inbox, runs_learner_code, own_identity, Path(address.lib))
        request.update(namespaces=False, worker_args=worker.args, env=worker.env)
        scratch, uid = str(worker.scratch), worker.uid
    else:
        if module_dir is not None:
            shutil.copytree(module_dir, inbox / "submission", symlinks=False)
            _readable_by_all(inbox / "submission")
        args = ["--scratch", SANDBOX_SCRATCH, "--pid-namespace", "--drop-to", str(worker_uid())]
        if module_dir is not None:
            args += ["--module-dir", SANDBOX_SUBMISSION]
        request.update(namespaces=True, worker_args=args)
        scratch, uid = SANDBOX_SCRATCH, None
    status_read, status_write = os.pipe()
    hello, hello_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    hello.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    process = None
    try:
        with socket.socket(fileno=os.dup(address.fd)) as control, hello_theirs, open(status_write, "wb"):
            socket.send_fds(control, [json.dumps(request).encode()],
                            [channels["request"], channels["answer"], channels["output"], status_write,
                             hello_theirs.fileno()])
        pid = _fork_pid(hello, timeout)
        process = ForkedProcess(pid, status_read, tree=not request["namespaces"])
        hello.send(b"go")  # the keeper waits for this: until now its PID could not be reused
    except (OSError, PoolUnavailable) as exc:
        if process is None:
            os.close(status_read)
        else:
            process.kill()
            process.release()
        remove_tree(inbox)
        raise PoolUnavailable(f"no fork from the warm pool ({exc})") from None
    finally:
        hello.close()
    return Fork(process, inbox, scratch, uid)


def _fork_pid(hello: socket.socket, timeout: float) -> int:
    """The keeper's PID on this host, as the kernel gives it with the keeper's message."""
    if not select.select([hello], [], [], timeout)[0]:
        raise PoolUnavailable(f"the pool gave no fork within {timeout:g} s")
    size = socket.CMSG_SPACE(struct.calcsize("3i"))
    _data, ancillary, _flags, _address = hello.recvmsg(16, size)
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, _uid, _gid = struct.unpack("3i", data[:struct.calcsize("3i")])
            if pid > 0:
                return pid
    raise PoolUnavailable("the fork's first message carried no credentials")


class ForkedProcess:
    """What ``subprocess.Popen`` gives for a cold worker, for a fork: the keeper's PID, the worker's end.

    The worker's exit status comes from its keeper, which never ran learner code; a keeper killed from
    here reports nothing, and the worker counts as killed. ``kill`` ends the keeper and everything below
    it: under bubblewrap the keeper is PID 1 of the fork's namespaces, which end with it; under Landlock
    (``tree``) its descendants are killed first, from the host's process table.
    """

    def __init__(self, pid: int, status_fd: int, tree: bool):
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self._status = os.fdopen(status_fd, "rb")
        self._tree = tree
        self._lock = threading.Lock()  # the disk watcher's thread may kill while the test's thread does
        self.returncode: int | None = None
        self.setup_error: str | None = None  # the keeper could not set the fork up (the grader's fault)

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None and select.select([self._status], [], [], 0)[0]:
                self._ended()
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("worker", timeout)
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        """End the worker, its keeper and everything they started; return once the keeper is gone."""
        with self._lock:
            if self._pidfd is None:
                return
            if self._tree:
                kill_descendants(self.pid)
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            select.select([self._pidfd], [], [], 30)
            if self.returncode is None:
                self._ended()
            self._release()

    def _ended(self) -> None:
        try:
            report = json.loads(self._status.readline(4096))
            self.setup_error = str(report["setup"]) if "setup" in report else None
            self.returncode = os.waitstatus_to_exitcode(int(report["exit"]))
        except (ValueError, KeyError, TypeError, OSError):
            self.returncode = -signal.SIGKILL

    def release(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._pidfd is not None:
            self._status.close()
            os.close(self._pidfd)
            self._pidfd = None


def _readable_by_all(folder: Path) -> None:
    """The worker drops to a uid of its own: the copy is world-readable, never writable."""
    for directory, dirnames, filenames in os.walk(folder):
        os.chmod(directory, 0o755)
        for name in filenames:
            os.chmod(os.path.join(directory, name), 0o644)
