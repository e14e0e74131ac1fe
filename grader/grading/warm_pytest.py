"""The trusted pytest process, started warm: pytest and the grading plugin imported once per batch.

A batch starts one *pytest parent* (``WarmPytest``): a trusted process that
imports pytest, the plugin and the libraries the tests import, and then
forks one pytest run per submission. It never collects a test file (the
hidden tests are imported by each fork, fresh), and no learner code runs on
this side of the sandbox, so a fork inherits libraries and nothing else.

Each fork is what ``grader.grading.run`` would otherwise start as a new
interpreter: a session of its own, its output in the submission's log, the
descriptors the coordinator passes (warm pools' control sockets) at the same
numbers, killed with the parent (``PR_SET_PDEATHSIG``), and the parent
killed with the coordinator.
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Sequence

from grader.sandbox.processes import reaped

PR_SET_PDEATHSIG = 1
# What a pytest run imports before its first test file: imported once, in the parent.
WARM_IMPORTS = ("pytest", "_pytest.python", "_pytest.terminal", "_pytest.fixtures", "grader.grading.plugin",
                "grader.testing", "numpy")
_PARENT = "import grader.grading.warm_pytest as w; w.parent()"
MAX_FDS = 16
DISABLE = "HML_WARM_PYTEST"  # set to 0 to start every trusted pytest process as a new interpreter


def warm_pytest_wanted() -> bool:
    return os.environ.get(DISABLE, "1") != "0"


class WarmPytestGone(RuntimeError):
    """The pytest parent is gone: the run starts as a new interpreter instead."""


class WarmPytest:
    """A pytest parent for one batch; ``start`` forks a run, ``Run.wait``/``kill`` follow it."""

    def __init__(self, root: Path, kfp: bool = False):
        """``root``: the course, where the parent runs (as a new pytest process would): ``python -c`` looks
        for modules in its working folder first, which must never be wherever the grader was started (a
        folder of submissions holding a ``numpy.py``, say). ``kfp``: the batch grades KFP exercises, whose
        checks read pipelines with kfp's IR modules: the parent imports them too (lean,
        ``grader.lean_imports``), so no run pays for them."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HML_GRADER_PID=str(os.getpid()))
        argv = [sys.executable, "-c", _PARENT, str(theirs.fileno()), *(["kfp"] if kfp else [])]
        self.process = subprocess.Popen(argv, env=env, cwd=root,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        pass_fds=(theirs.fileno(),), start_new_session=True,
                                        preexec_fn=_die_with_parent)
        theirs.close()
        self._control = ours
        self._lock = threading.Lock()

    def start(self, argv: Sequence[str], cwd: Path, log_fd: int, env: dict[str, str],
              pass_fds: Sequence[int] = ()) -> "Run":
        """Fork a pytest run of ``argv`` (its arguments, without the program), output to ``log_fd``."""
        reply, reply_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = {"argv": list(argv), "cwd": str(cwd), "env": env, "targets": list(pass_fds)}
        try:
            with self._lock, reply_theirs:
                socket.send_fds(self._control, [json.dumps(request).encode()],
                                [reply_theirs.fileno(), log_fd, *pass_fds])
            if not select.select([reply], [], [], 30)[0]:
                raise WarmPytestGone("the pytest parent did not answer")
            answer = reply.recv(256)
            if not answer:
                raise WarmPytestGone("the pytest parent is gone")
            run = Run(int(json.loads(answer)["pid"]), reply)
        except (OSError, ValueError, KeyError) as exc:
            reply.close()
            raise WarmPytestGone(str(exc)) from None
        reply.send(b"go")  # the fork waits for this: until the pidfd is open here its PID could not be reused
        return run

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._control.close()

    def __enter__(self) -> "WarmPytest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Run:
    """One forked pytest run: ``pid`` (a session leader), ``poll``/``wait`` for its exit code, ``kill``."""

    def __init__(self, pid: int, reply: socket.socket):
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self._reply = reply
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._reply], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._reply], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("pytest", timeout)
            self._ended()
        return self.returncode

    def signal(self, number: int) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, number)
            except ProcessLookupError:
                pass

    def _ended(self) -> None:
        try:
            self.returncode = int(json.loads(self._reply.recv(256))["exit"])
        except (OSError, ValueError, KeyError, TypeError):
            self.returncode = -signal.SIGKILL  # the parent died with it
        self._reply.close()
        os.close(self._pidfd)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


# --------------------------------------------------------------------------- in the pytest parent

def parent() -> None:
    """Import what every run imports, then fork a run per request until the coordinator closes its end."""
    import importlib

    for name in WARM_IMPORTS:
        importlib.import_module(name)
    if sys.argv[2:] == ["kfp"]:
        from grader import lean_imports
        from grader.judging.kfp_ir import KFP_MODULES

        for name in KFP_MODULES:
            lean_imports.import_module(name)
    # The imports' objects out of the collector's reach: a run's collections (pytest forces two at its end)
    # walk only its own objects, and leave the parent's pages shared.
    gc.freeze()
    control = socket.socket(fileno=int(sys.argv[1]))
    # A run's end wakes the loop at once: SIGCHLD writes a byte to this pipe.
    woken, wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    running: dict[int, socket.socket] = {}
    while True:
        try:
            ready = select.select([control, woken], [], [])[0]
        except InterruptedError:
            continue
        if woken in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(woken, 4096)  # what is left wakes the loop again
            _report_ended(running)
        if control not in ready:
            continue
        message, fds, _flags, _address = socket.recv_fds(control, 1 << 20, MAX_FDS)
        if not message:
            return
        request = json.loads(message)
        reply = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (woken, wake):
                    os.close(fd)
                _run(request, reply, fds[1], fds[2:], control)
            finally:
                os._exit(70)
        for fd in fds[1:]:
            os.close(fd)
        reply.send(json.dumps({"pid": pid}).encode())
        running[pid] = reply


def _report_ended(running: dict[int, socket.socket]) -> None:
    for pid, code in reaped():
        reply = running.pop(pid, None)
        if reply is not None:
            with contextlib.suppress(OSError):
                reply.send(json.dumps({"exit": code}).encode())
            reply.close()


def _run(request: dict, reply: socket.socket, log_fd: int, passed: list[int], control: socket.socket) -> None:
    """In the fork: the process ``grader.grading.run.pytest_child`` would be, without starting Python again."""
    import pytest

    _die_with_parent()
    os.setsid()
    control.close()
    reply.recv(2)  # the coordinator holds a pidfd to this process now
    reply.close()
    held = [fcntl.fcntl(fd, fcntl.F_DUPFD, 256) for fd in passed]  # out of the way of the targets
    for fd in passed:
        os.close(fd)
    for fd, target in zip(held, request["targets"]):
        os.dup2(fd, int(target))
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    for fd in (null, log_fd):
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["pytest", *request["argv"]]
    try:
        code = pytest.console_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
