"""The pipeline runner's task parent: kfp's executor imported once, each task a fork of it.

A lightweight component's task is a shell command kfp writes: a pip step
(a no-op here: the pip shim), then a new interpreter that imports kfp and runs
the component (``kfp.dsl.executor_main``), about 0.15 s per task before the
component's own work. When a task's command is exactly kfp's (``kfp_task``:
the pip step installs quoted names and nothing else, the program step is the
one this kfp writes), the runner asks this parent for a fork that does what
the command's interpreter would: the component's source written to a fresh
``mktemp -d`` folder, ``_KFP_RUNTIME=true``, and ``kfp.dsl.executor_main``
run as ``__main__`` with the command's arguments. Any other command runs as
it is.

The parent is a new interpreter with a task's environment, started by the
runner (never a fork of it: it holds none of the runner's state), and
non-dumpable, so a task (the same uid) cannot reach its memory and change
the next task. A task's fork gets its own descriptors only
(``grader/sandbox/fork_server.py``), and whatever a task leaves running is
killed with it, as before, by the runner.
"""
from __future__ import annotations

import functools
import gc
import importlib
import os
import re
import runpy
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.sandbox.fork_server import Client, Forked, die_with_parent, exit_code, serve
from grader.sandbox.processes import make_non_dumpable

EXECUTOR = "kfp.dsl.executor_main"
# The grader package from where the runner's came (it may not be the one installed), then the import path a
# task's interpreter has: the package stays imported, but no task imports from its folder.
_PARENT = ("import sys; sys.path.insert(0, sys.argv[2]); import grader.sandbox.task_parent as t; "
           "sys.path.remove(sys.argv[2]); t.parent()")
ROOT = Path(__file__).resolve().parents[2]
_QUOTED = r"'[^']*'"  # a word the shell takes as it is
MAX_ARG_STRLEN = 32 * 4096  # Linux's bound on one argument or environment string, its NUL included


class TaskParent:
    """Started by the runner; ``start`` forks one task (``Forked``) or raises ``ParentGone``."""

    def __init__(self, env: dict[str, str], cwd: Path):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # A task's environment, as kfp's program step sets it: kfp then imports without its API client.
        self.process = subprocess.Popen([sys.executable, "-c", _PARENT, str(theirs.fileno()), str(ROOT)],
                                        env=dict(env, _KFP_RUNTIME="true"), cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        pass_fds=(theirs.fileno(),), start_new_session=True,
                                        preexec_fn=die_with_parent)
        theirs.close()
        self._client = Client(ours, "the task parent")

    def start(self, source: str, args: list[str], env: dict[str, str], cwd: Path, out_fd: int) -> Forked:
        # The environment the program step's interpreter has: the shell adds PWD, the step _KFP_RUNTIME.
        request = {"source": source, "args": args, "cwd": str(cwd),
                   "env": dict(env, PWD=str(cwd), _KFP_RUNTIME="true")}
        return self._client.start(request, out_fd)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self._client.close()


def kfp_task(command: list[str], env: dict[str, str]) -> tuple[str, list[str]] | None:
    """``(source, arguments)`` when ``command`` is exactly a lightweight component's task as this kfp
    writes it (with ``python3`` replaced by this interpreter, as kfp.local does, ``python3-pip`` included)
    and would start at all with ``env`` (a command the kernel refuses fails cold, so it is not forked);
    else None."""
    if not _would_exec(command, env):
        return None
    try:
        program = _program_step()
    except Exception:  # noqa: BLE001 - a kfp that writes its tasks otherwise: they run as they are
        return None
    rest = command
    if rest[:2] == ["sh", "-c"] and len(rest) > 2 and _pip_step().fullmatch(rest[2]):
        rest = rest[3:]
    if rest[:2] != ["sh", "-ec"] or len(rest) < 4 or rest[2] != program:
        return None
    return rest[3], rest[4:]


def _would_exec(command: list[str], env: dict[str, str]) -> bool:
    """Whether execve takes ``command`` with ``env``: every string encodable, without NUL and within the
    kernel's bound on one argument, and all of them within its bound on the whole."""
    try:
        strings = [os.fsencode(part) for part in command] + [os.fsencode(f"{k}={v}") for k, v in env.items()]
    except UnicodeError:
        return False
    if any(b"\0" in part or len(part) >= MAX_ARG_STRLEN for part in strings):
        return False
    return sum(len(part) + 1 + 8 for part in strings) <= os.sysconf("SC_ARG_MAX")


@functools.cache
def _program_step() -> str:
    """The program step kfp writes for every lightweight component, read from kfp itself."""
    import warnings

    from kfp import dsl

    def probe():
        pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kfp's notices about its future defaults
        command = dsl.component(probe).component_spec.implementation.container.command
    return command[command.index("-ec") + 1].replace("python3", sys.executable)


@functools.cache
def _pip_step() -> re.Pattern:
    python = re.escape(sys.executable)
    pip = rf"{python} -m pip install --quiet --no-warn-script-location(?: {_QUOTED})+"
    return re.compile(
        rf'\nif ! \[ -x "\$\(command -v pip\)" \]; then\n'
        rf"    {python} -m ensurepip \|\| {python} -m ensurepip --user \|\| apt-get install {python}-pip\n"
        rf'fi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 {pip}(?:  &&  {pip})* && "\$0" "\$@"\n')


# --------------------------------------------------------------------------- in the task parent

def parent() -> None:
    make_non_dumpable()
    importlib.import_module(EXECUTOR)  # and with it, what every task imports first
    gc.freeze()
    serve(socket.socket(fileno=int(sys.argv[1])), _task)


def _task(request: dict) -> int:
    """What the program step's shell and interpreter would do: the shell leads the session and waits (so the
    task may start a session of its own, as a cold one may), the interpreter writes the source and runs the
    executor, then shuts down as Python does."""
    task = os.fork()
    if task:
        _, status = os.waitpid(task, 0)
        code = os.waitstatus_to_exitcode(status)
        return code if code >= 0 else 128 - code  # a task killed by a signal, as sh reports it
    die_with_parent()
    make_non_dumpable(dumpable=True)  # as a new process would be; the parent stays out of reach
    folder = tempfile.mkdtemp(prefix="tmp.")
    module = os.path.join(folder, "ephemeral_component.py")
    with open(module, "w", encoding="utf-8", errors="surrogateescape") as out:
        out.write(request["source"])
    sys.argv = [EXECUTOR, "--component_module_path", module, *request["args"]]
    try:
        runpy.run_module(EXECUTOR, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exit_code(exc)
    except BaseException:  # noqa: BLE001 - what Python prints and returns for an uncaught exception
        sys.excepthook(*sys.exc_info())
        code = 1
    return _shut_down(code)


def _shut_down(code: int) -> int:
    """What Python does before it exits: wait for the threads that are not daemons, then the atexit handlers
    (a task that never ends, or ends otherwise in them, does so here too, as it would cold)."""
    import atexit
    import threading

    try:
        threading._shutdown()
    except BaseException:  # noqa: BLE001 - as Python's shutdown: reported, and the exit goes on
        sys.excepthook(*sys.exc_info())
    atexit._run_exitfuncs()
    return code
