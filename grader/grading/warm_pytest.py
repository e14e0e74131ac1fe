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

import gc
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from grader.sandbox.fork_server import Client, Forked, die_with_parent, exit_code, serve

# What every pytest run imports before its first test file: imported once, in the parent.
WARM_IMPORTS = ("pytest", "_pytest.python", "_pytest.terminal", "_pytest.fixtures", "grader.grading.plugin",
                "grader.testing")
_PARENT = "import grader.grading.warm_pytest as w; w.parent()"
DISABLE = "HML_WARM_PYTEST"  # set to 0 to start every trusted pytest process as a new interpreter

def warm_pytest_wanted() -> bool:
    return os.environ.get(DISABLE, "1") != "0"


class WarmPytest:
    """A pytest parent for one batch; ``start`` forks a run (``Forked``: ``wait``, ``signal``), or raises
    ``ParentGone`` when the parent is gone (the run then starts as a new interpreter)."""

    def __init__(self, root: Path, imports: Sequence[str] = ()):
        """``root``: the course, where the parent runs (as a new pytest process would): ``python -c`` looks
        for modules in its working folder first, which must never be wherever the grader was started (a
        folder of submissions holding a ``numpy.py``, say). ``imports``: what the batch's checks import
        besides pytest and the plugin (numpy, kfp's IR modules: lean, ``grader.lean_imports``), imported once
        here; what is not, each run imports in the background as it starts (``grader.grading.plugin``)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HML_GRADER_PID=str(os.getpid()))
        argv = [sys.executable, "-c", _PARENT, str(theirs.fileno()), *imports]
        self.process = subprocess.Popen(argv, env=env, cwd=root,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        pass_fds=(theirs.fileno(),), start_new_session=True,
                                        preexec_fn=die_with_parent)
        theirs.close()
        self._client = Client(ours, "the pytest parent")

    def start(self, argv: Sequence[str], cwd: Path, log_fd: int, env: dict[str, str],
              pass_fds: Sequence[int] = ()) -> Forked:
        """Fork a pytest run of ``argv`` (its arguments, without the program), output to ``log_fd``."""
        request = {"argv": list(argv), "cwd": str(cwd), "env": env, "targets": list(pass_fds)}
        return self._client.start(request, log_fd, pass_fds)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._client.close()

    def __enter__(self) -> "WarmPytest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------- in the pytest parent

def parent() -> None:
    """Import what every run imports, then fork a run per request until the coordinator closes its end."""
    from grader import lean_imports

    for name in (*WARM_IMPORTS, *sys.argv[2:]):
        lean_imports.import_module(name)
    # The imports' objects out of the collector's reach: a run's collections (pytest forces two at its end)
    # walk only its own objects, and leave the parent's pages shared.
    gc.freeze()
    serve(socket.socket(fileno=int(sys.argv[1])), _pytest_run)


def _pytest_run(request: dict) -> int:
    """In the fork: what ``grader.grading.run.pytest_child`` would run, without starting Python again."""
    import pytest

    sys.argv = ["pytest", *request["argv"]]
    try:
        return int(pytest.console_main())
    except SystemExit as exc:
        return exit_code(exc)
