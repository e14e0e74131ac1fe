"""The trusted side of a worker: start it, talk to it, kill it.

``Learner`` is what tests hold (the ``learner`` fixture): attribute access
becomes a call of the learner's function of that name in the worker. Only
data crosses; every answer is decoded into fresh built-in objects.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grader.sandbox import sysv, wire
from grader.sandbox.disk import held_nameless, remove_tree, scratch_usage
from grader.errors import (
    GraderError, ModuleImportFailed, WorkerCrashed, WorkerProtocolError, WorkerTimeout, learner_error,
)
from grader.sandbox.launch import Limits, Sandbox, launch
from grader.sandbox.pool import Fork, PoolAddress, PoolUnavailable, fork_worker
from grader.sandbox.processes import descendants, kill_descendants, process_table

OUTPUT_LIMIT = 64 * 1024


class LeftOnHost(GraderError, RuntimeError):
    """What a worker left on the host (its scratch folder, SysV objects) could not be removed."""


@dataclass
class WorkerSpec:
    """What one worker holds and how it is confined."""

    module_dir: Path | None = None  # the directory holding the learner module; None for an evaluator
    module_name: str | None = None
    preload: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    sandbox: Sandbox = field(kw_only=True)
    start_timeout: float = 120.0
    call_timeout: float = 60.0
    locate: Callable[[int], str] | None = None  # notebooks: a module line in the notebook's terms
    runs_learner_code: bool | None = None  # the pipeline runner: no learner module, but the learner's components
    # Where workers run as root without capabilities (Landlock, a pyenv under /root), count this
    # worker's processes against a uid of its own, its real uid staying root. Not for a worker that
    # starts shells (they drop an effective uid that differs from the real one: the pipeline
    # runner's tasks) or loads TensorFlow (it checks file access by the real uid).
    own_identity: bool = False
    pool: PoolAddress | None = None  # a warm pool of this kind of worker, to fork from (else: a cold start)

    @property
    def learner_code(self) -> bool:
        """Whether learner code runs in this worker (its reference code is then hidden): by default, whether
        it holds a learner module."""
        return self.module_dir is not None if self.runs_learner_code is None else self.runs_learner_code


class Worker:
    """One sandboxed worker process and its two channels."""

    def __init__(self, spec: WorkerSpec):
        self.spec = spec
        self._host_scratch = Path(tempfile.mkdtemp(prefix="hml-scratch-"))
        self.host_scratch = self._host_scratch  # where a cold worker's scratch is on the host (gone once closed)
        self._output = bytearray()
        self._output_dropped = 0
        self._answers: queue.Queue = queue.Queue()
        # One frame is read per request (the first for the ready message): a
        # worker cannot queue answers nobody asked for.
        self._wanted = threading.Semaphore(1)
        request_read, self._request_write = os.pipe()
        answer_read, answer_write = os.pipe()
        output_read, output_write = os.pipe()
        self._fork: Fork | None = None
        if spec.pool is not None:
            self._fork = self._forked(request_read, answer_write, output_write)
        if self._fork is None:
            self._start_cold(request_read, answer_write, output_write)
        for fd in (request_read, answer_write, output_write):
            os.close(fd)
        self._requests = os.fdopen(self._request_write, "wb")
        threading.Thread(target=self._read_answers, args=(answer_read,), daemon=True).start()
        threading.Thread(target=self._read_output, args=(output_read,), daemon=True).start()
        self._disk_exceeded = False
        if self.sandboxed:
            threading.Thread(target=self._watch_disk, args=(spec.limits.tmpfs_mb, self._scratch_on_disk),
                             daemon=True).start()

    def _start_cold(self, request_read: int, answer_write: int, output_write: int) -> None:
        """A worker of its own: a new sandbox, a new interpreter, its libraries imported again."""
        spec = self.spec
        channels = ["--request-fd", str(request_read), "--answer-fd", str(answer_write)]
        # Without an IPC namespace (Landlock) what exists now is kept; what the worker's identity adds goes.
        self._ipc_before = sysv.snapshot() if spec.sandbox is Sandbox.LANDLOCK else None
        plan = launch(self._worker_args() + channels, spec.module_dir, spec.limits, spec.sandbox,
                      self._host_scratch, spec.learner_code, spec.own_identity)
        self.scratch = plan.scratch
        self.sandboxed = plan.sandboxed
        self._uid = plan.uid
        self._kill_tree = plan.kill_tree
        self._scratch_on_disk = plan.scratch_on_disk
        self.process = subprocess.Popen(
            plan.argv, env=plan.env, stdin=subprocess.DEVNULL, stdout=output_write, stderr=output_write,
            pass_fds=(request_read, answer_write), preexec_fn=plan.preexec,
            cwd=str(self._host_scratch) if not plan.sandboxed else "/",
        )

    def _forked(self, request_read: int, answer_write: int, output_write: int) -> Fork | None:
        """A fork of the warm pool's parent, confined before it reads the module; None: start cold."""
        spec = self.spec
        landlock = spec.sandbox is Sandbox.LANDLOCK
        ipc_before = sysv.snapshot() if landlock else None
        try:
            fork = fork_worker(spec.pool, module_dir=spec.module_dir, module_name=spec.module_name,
                               preload=spec.preload, limits=spec.limits,
                               runs_learner_code=spec.learner_code, own_identity=spec.own_identity,
                               channels={"request": request_read, "answer": answer_write, "output": output_write},
                               timeout=spec.start_timeout)
        except PoolUnavailable:
            return None
        self._ipc_before = ipc_before
        self.scratch = fork.scratch
        self.sandboxed = True
        self._uid = fork.uid
        self._kill_tree = False  # the fork's keeper is killed with everything below it
        self._scratch_on_disk = landlock
        if landlock:  # its scratch is in its inbox folder, on the host's disk: watched and removed there
            os.rmdir(self._host_scratch)
            self._host_scratch = self.host_scratch = fork.inbox
        self.process = fork.process
        return fork

    def _worker_args(self) -> list[str]:
        args = ["--preload", ",".join(self.spec.preload)]
        if self.spec.module_name:
            args += ["--module-name", self.spec.module_name]
        return args

    def wait_ready(self) -> None:
        """Wait for the worker to import its libraries and the learner module."""
        header, _ = self._next_answer(self.spec.start_timeout, "starting up (importing your module)")
        if not header.get("ok"):
            error = header.get("error") or {}
            if header.get("stage") == "preload":
                # Raised as an import failure so it is remembered: every later worker would fail the same way.
                raise ModuleImportFailed(f"the worker could not import its libraries: "
                                         f"{error.get('type')}: {error.get('message')}")
            raise ModuleImportFailed(_import_message(error, self.spec.locate))

    def request(self, message: dict, blobs: list[bytes] = (), timeout: float | None = None,
                what: str = "a call") -> Any:
        try:
            wire.write_message(self._requests, message, list(blobs))
        except (BrokenPipeError, OSError):
            raise self._crashed(what) from None
        self._wanted.release()
        header, answer_blobs = self._next_answer(timeout or self.spec.call_timeout, what)
        try:
            if header.get("ok"):
                return wire.decode(header.get("value"), answer_blobs)
            error = header.get("error") or {}
        except Exception:  # noqa: BLE001 - anything malformed is a protocol error; its text is the learner's
            self.kill()
            raise WorkerProtocolError(f"the worker sent a malformed answer during {what}") from None
        function = message.get("name") if message.get("op") == "call" else None  # recipes are ours, not theirs
        raise learner_error(str(error.get("type", "Error")), str(error.get("message", "")),
                            str(error.get("traceback", "")), function, str(error.get("builtin", "")))

    def _next_answer(self, timeout: float, what: str) -> tuple[dict, list[bytes]]:
        try:
            item = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerTimeout(f"{what} did not finish within {timeout:g} seconds and was stopped "
                                "(an endless loop, or far too much work?)") from None
        if isinstance(item, BaseException):
            if isinstance(item, EOFError):
                raise self._crashed(what)
            self.kill()  # the channel is out of step: nothing more from this worker can be trusted
            raise WorkerProtocolError(f"the worker sent a malformed answer during {what}")
        return item

    def _crashed(self, what: str) -> WorkerCrashed:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        self.kill()
        if getattr(self.process, "setup_error", None):
            raise PoolUnavailable(f"the warm pool could not set a worker up: {self.process.setup_error}")
        advice = ""
        if self._disk_exceeded:
            reason = (f"it wrote more than the {self.spec.limits.tmpfs_mb} MB of files allowed "
                      "(files deleted while still open count too)")
        elif code is not None and code < 0:
            reason = {signal.SIGKILL: "it was killed (often: out of memory)", signal.SIGXCPU: "it ran out of CPU time",
                      signal.SIGXFSZ: "it wrote a file larger than allowed",
                      signal.SIGSEGV: "it crashed (segmentation fault)"}.get(-code, f"signal {-code}")
        else:
            reason = f"exit code {code}"
            advice = " Do not call exit() or os._exit() in your module."
        return WorkerCrashed(f"the process running your code stopped during {what}: {reason}.{advice}")

    def _read_answers(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            while True:
                self._wanted.acquire()
                try:
                    self._answers.put(wire.read_message(stream))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting call
                    self._answers.put(exc)
                    return

    def _watch_disk(self, limit_mb: int, scratch_on_disk: bool) -> None:
        """Kill the worker once it holds more than ``limit_mb``: nameless files its processes keep open, and,
        when its scratch is a folder on the host's disk (Landlock) rather than a size-limited tmpfs, the
        scratch too."""
        pids, tick = [self.process.pid], 0
        while self.process.poll() is None:
            if tick % 8 == 0:  # the process table is read every 2 s: reading it is most of a watch's cost
                pids = [self.process.pid, *descendants(process_table(), self.process.pid)]
            tick += 1
            held = held_nameless(pids, threads=tick % 4 == 1)  # every thread's table once a second: 50 threads cost 2 ms
            if scratch_on_disk:
                held += scratch_usage(self._host_scratch)
            if held > limit_mb * 1024 * 1024:
                self._disk_exceeded = True
                self.kill()
                return
            time.sleep(0.25)

    def _read_output(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            while chunk := stream.read1(65536):
                room = OUTPUT_LIMIT - len(self._output)
                self._output += chunk[:max(room, 0)]
                self._output_dropped += max(len(chunk) - max(room, 0), 0)

    @property
    def output(self) -> str:
        text = self._output.decode("utf-8", "replace")
        if self._output_dropped:
            text += f"\n[... {self._output_dropped} more bytes of output truncated]"
        return text

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self._kill_tree and self.process.poll() is None:
            kill_descendants(self.process.pid)  # a daemon that left the process group is still below the worker
        if self._fork is not None:
            self.process.kill()  # the keeper and everything below it, whether or not the worker has ended
        elif self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self._uid is not None:
            _kill_uid(self._uid)  # without a PID namespace, what left the process group still runs as its uid

    def close(self) -> None:
        """Kill the worker, then remove what it left: its scratch folder and, without an IPC namespace, the
        SysV objects its identity made. ``LeftOnHost`` when something stays (after everything was tried)."""
        # Killed outright: nothing in the worker needs flushing, and a Python
        # that has loaded TensorFlow takes seconds to finalise.
        self.kill()
        try:
            self._requests.close()
        except OSError:
            pass
        problems = []
        if self._ipc_before is not None:
            left = sysv.remove(sysv.left_by(self._ipc_before, sysv.worker_uid(self._uid), self._uid is not None))
            problems += [f"SysV {o.kind} {o.id}" for o in left]
            self._ipc_before = None
        for folder in dict.fromkeys([self._host_scratch] + ([self._fork.inbox] if self._fork else [])):
            if not remove_tree(folder):
                problems.append(f"the scratch folder {folder}")
        if problems:
            raise LeftOnHost(f"a worker's leftovers could not be removed: {', '.join(problems)}")


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid`` (a worker's own, unused by anything else)."""
    for _ in range(20):
        found = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                continue
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


def _import_message(error: dict, locate: Callable[[int], str] | None) -> str:
    kind, message, lineno = error.get("type"), error.get("message"), error.get("lineno")
    where = ""
    if isinstance(lineno, int):
        where = f" ({locate(lineno) if locate else f'line {lineno}'})"
    text = f"your module could not be imported{where}: {kind}: {message}"
    if kind == "SystemExit":
        text += ". Do not call exit() at the top level of your module."
    if error.get("traceback"):
        text += "\n" + error["traceback"]
    return text


class Learner:
    """The ``learner`` fixture: the learner's module, reached across the sandbox.

    A worker that dies or hangs fails the current call; the next call starts
    a fresh one. A module that does not import fails every call the same way.
    """

    MAX_TIMEOUTS = 3  # after this many hung calls, the rest fail at once: a batch must move on

    def __init__(self, spec: WorkerSpec):
        self._spec = spec
        self._worker: Worker | None = None
        self._import_failure: ModuleImportFailed | None = None
        self._timeouts = 0
        self._unready = False  # started by start(), not yet waited for

    def _ready_worker(self) -> Worker:
        if self._import_failure is not None:
            raise self._import_failure
        if self._timeouts >= self.MAX_TIMEOUTS:
            raise WorkerTimeout(f"not run: {self._timeouts} earlier calls of your code ran out of time")
        if self._worker is not None and self._worker.alive() and not self._unready:
            return self._worker
        if self._worker is None or not self._unready:
            if self._worker is not None:
                self._worker.close()
            self._worker = Worker(self._spec)
        self._unready = False
        try:
            self._worker.wait_ready()
        except ModuleImportFailed as exc:
            self._import_failure = exc
            self.close()
            raise
        except WorkerTimeout as exc:
            # Importing is deterministic: a module that hangs once will hang every time.
            self._import_failure = ModuleImportFailed(f"your module could not be imported: {exc}")
            self.close()
            raise self._import_failure from None
        except BaseException:
            self.close()
            raise
        return self._worker

    def start(self) -> None:
        """Start the worker now without waiting for it: its imports overlap with the other workers'."""
        if self._worker is None and self._import_failure is None:
            self._worker = Worker(self._spec)
            self._unready = True

    def _send(self, message: dict, blobs=(), timeout: float | None = None, what: str = "a call") -> Any:
        worker = self._ready_worker()
        try:
            return worker.request(message, blobs, timeout, what)
        except WorkerTimeout:
            self._timeouts += 1
            raise

    def call(self, name: str, *args, then: str | None = None, timeout: float | None = None, **kwargs) -> Any:
        """Call the learner's function ``name``; ``then`` names a recipe that turns its result into data."""
        tree_args, blobs = wire.encode([list(args), kwargs])
        return self._send({"op": "call", "name": name, "args": tree_args[0], "kwargs": tree_args[1], "then": then},
                          blobs, timeout, f"the call of `{name}`")

    def recipe(self, name: str, *args, timeout: float | None = None, **kwargs) -> Any:
        """Run trusted helper code (``grader/sandbox/recipes``) in the worker, next to the learner module."""
        tree_args, blobs = wire.encode([list(args), kwargs])
        return self._send({"op": "recipe", "name": name, "args": tree_args[0], "kwargs": tree_args[1]},
                          blobs, timeout, f"`{name}`")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def proxy(*args, **kwargs):
            return self.call(name, *args, **kwargs)

        proxy.__name__ = name
        return proxy

    def path(self, relative: str) -> str:
        """A path in the worker's scratch directory, as the learner's code sees it."""
        worker = self._ready_worker()
        return f"{worker.scratch}/{relative}"

    def read_bytes(self, relative: str) -> bytes:
        return self._send({"op": "read", "path": relative}, what=f"reading {relative}")

    def read_text(self, relative: str) -> str:
        return self.read_bytes(relative).decode("utf-8", "replace")

    def write_bytes(self, relative: str, data: bytes) -> str:
        return self._send({"op": "write", "path": relative}, [bytes(data)], what=f"writing {relative}")

    def walk(self, relative: str = ".") -> list[str]:
        """Every file below ``relative`` in the scratch directory, as relative paths."""
        return self._send({"op": "walk", "path": relative}, what=f"listing {relative}")

    def defines(self, name: str) -> bool:
        return bool(self._send({"op": "defines", "name": name}, what="a lookup"))

    @property
    def output(self) -> str:
        """What the learner's code printed so far in the current worker (truncated)."""
        return self._worker.output if self._worker else ""

    @property
    def sandboxed(self) -> bool:
        return self._spec.sandbox.confines

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()
