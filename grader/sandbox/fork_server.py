"""A process that forks a run of itself per request: its imports paid once, each run a fresh copy.

Two warm parents are built on it: the batch's trusted pytest parent
(``grader/grading/warm_pytest.py``) and the pipeline runner's task parent
(``grader/sandbox/recipes/task_parent.py``). The parent's only input is the
requests on its control socket (a socketpair its starter keeps the other end
of); a request is JSON (``cwd``, ``env``, ``targets`` and what ``run`` reads)
with descriptors attached: the reply socket, the run's output, and those to
place at ``targets``.

Each run, before ``run`` is called: a session of its own, killed with the
parent (``PR_SET_PDEATHSIG``), the control socket closed, held until its
starter has a pidfd (so its PID cannot be reused under the starter), standard
input from /dev/null, output and errors to the given descriptor, the
descriptors at their targets, the request's folder and whole environment.
Its exit code goes back on the reply socket when the parent reaps it.
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Callable, Sequence

from grader.sandbox.processes import reaped

PR_SET_PDEATHSIG = 1
MAX_FDS = 16


class ParentGone(RuntimeError):
    """The parent did not take the request: whoever asked starts the run another way."""


def die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class Client:
    """The starter's end of a parent's control socket; ``start`` forks a run."""

    def __init__(self, control: socket.socket, name: str, answer_within: float = 30):
        self._control = control
        self._name = name  # for errors: "the pytest parent"
        self._answer_within = answer_within  # the first request waits for the parent's imports
        self._lock = threading.Lock()

    def start(self, request: dict, out_fd: int, pass_fds: Sequence[int] = ()) -> "Forked":
        """Fork a run of ``request``, its output and errors to ``out_fd``; ``pass_fds`` go to the request's
        ``targets``. Raises ``ParentGone`` when the parent does not take it."""
        reply, reply_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock, reply_theirs:
                socket.send_fds(self._control, [json.dumps(request).encode()],
                                [reply_theirs.fileno(), out_fd, *pass_fds])
            if not select.select([reply], [], [], self._answer_within)[0]:
                raise ParentGone(f"{self._name} did not answer")
            answer = reply.recv(256)
            if not answer:
                raise ParentGone(f"{self._name} is gone")
            run = Forked(int(json.loads(answer)["pid"]), reply)
        except (OSError, ValueError, KeyError) as exc:
            reply.close()
            raise ParentGone(str(exc)) from None
        reply.send(b"go")  # the run waits for this: until the pidfd is open here its PID could not be reused
        return run

    def close(self) -> None:
        self._control.close()


class Forked:
    """One forked run: ``pid`` (a session leader), ``poll``/``wait`` for its exit code, ``signal``."""

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
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            self._ended()
        return self.returncode

    def signal(self, number: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, number)

    def _ended(self) -> None:
        try:
            self.returncode = int(json.loads(self._reply.recv(256))["exit"])
        except (OSError, ValueError, KeyError, TypeError):
            self.returncode = -signal.SIGKILL  # the parent died with it
        self._reply.close()
        os.close(self._pidfd)


# --------------------------------------------------------------------------- in the parent

def serve(control: socket.socket, run: Callable[[dict], int]) -> None:
    """Fork ``run(request)`` per request until the starter closes its end; report each run's exit code."""
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
        if len(fds) < 2:  # not a request (a reply socket and an output come with each): nothing to fork
            for fd in fds:
                os.close(fd)
            continue
        request = json.loads(message)
        reply = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (woken, wake):
                    os.close(fd)
                for other in running.values():  # another run's reply: never this one's to answer
                    other.close()
                _become_the_run(request, reply, fds[1], fds[2:], control)
                code = run(request)
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
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


def _become_the_run(request: dict, reply: socket.socket, out_fd: int, passed: list[int],
                    control: socket.socket) -> None:
    """In the fork: the process a new interpreter started for the run would be, up to its program."""
    die_with_parent()
    os.setsid()
    control.close()
    if reply.recv(2) != b"go":  # the starter holds a pidfd to this process now; or it is gone
        os._exit(70)
    reply.close()
    # Every descriptor received is moved out of the way first: the output's number here may well be one of
    # the targets (the starter's numbers), and placing a target there would send the output to it.
    out, *held = [fcntl.fcntl(fd, fcntl.F_DUPFD, 256) for fd in (out_fd, *passed)]
    for fd in (out_fd, *passed):
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0)
        os.close(null)  # now, before the targets: its number may be one of theirs
    os.dup2(out, 1)
    os.dup2(out, 2)
    for fd, target in zip(held, request.get("targets", [])):
        if int(target) > 2:
            os.dup2(fd, int(target))
    for fd in (out, *held):
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # found again from the run's own TMPDIR


def exit_code(exc: SystemExit) -> int:
    """The exit status Python gives ``sys.exit(value)``: an integer past a C long is 255, as CPython's is."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF if -2**63 <= exc.code < 2**63 else 255
    with contextlib.suppress(Exception):
        print(exc.code, file=sys.stderr)
    return 1
