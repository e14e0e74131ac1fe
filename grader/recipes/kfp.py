"""Recipes that drive the learner's Kubeflow Pipelines code inside the worker.

They compile pipelines and run pipelines or single components with
``kfp.local``'s subprocess runner (``use_venv=False``: the worker's own
interpreter and packages, no network), each run into a fresh pipeline root
under the scratch directory. What comes back is read from the files the run
left in that pipeline root: every task's ``executor_output.json`` (parameter
outputs, NamedTuple fields included, artifact metadata such as logged
metrics) and the contents of its output artifact files. Nothing the learner's
code printed counts as a result; printed text is only scanned for the
exception line of a failed task, to name the failure in feedback.

Every run is reported as data, also when it fails, so one failing run never
hides the others (see ``run``, which takes a batch of runs: one round trip
for all the runs a test module needs).

A component whose inputs include artifacts cannot be called alone under
``kfp.local`` ("Input artifacts are not yet supported"), so such a component
is run in a two-step harness pipeline built here: a ``dsl.importer`` of a
file the trusted test wrote into the scratch directory, then the learner's
component. Only the component's task is reported.
"""
from __future__ import annotations

import builtins
import collections
import contextlib
import io
import itertools
import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
MAX_ERRORS = 5
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(
    r"^\s*((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s?(.*))?$")
_FAILED_TASK = re.compile(r"Task '([^']+)' finished with status FAILURE")
_EXECUTING_TASK = re.compile(r"Executing task '([^']+)'")
_counter = itertools.count()


# --------------------------------------------------------------------------- recipes

def compile_package(ctx, pipeline: str, filename: str = "kfp-compiled.yaml") -> dict:
    """Compile the learner's pipeline object ``pipeline`` with kfp's own compiler.

    Independent of the learner's ``compile_pipeline``, so an IR check can go on
    when only that function is broken. Returns ``{"ok", "path", "error"}``; the
    package is read back with ``learner.read_bytes(filename)``.
    """
    from kfp import compiler

    target = ctx.scratch / filename
    try:
        obj = _learner_object(ctx, pipeline)
        compiler.Compiler().compile(obj, str(target))
    except Exception as exc:  # noqa: BLE001 - reported as data
        return {"ok": False, "path": None, "error": _describe(exc)}
    return {"ok": True, "path": filename, "error": None}


def run(ctx, jobs: list) -> list:
    """Run several pipelines/components one after another; one result each (see ``_run_one``).

    A job is a dict: ``{"pipeline": name, "arguments": {...}}`` or
    ``{"component": name, "arguments": {...}, "artifacts": {input: {"file": rel, "type": "Dataset"}}}``.
    """
    return [_run_retrying(ctx, job) for job in jobs]


def run_pipeline(ctx, pipeline: str, arguments: dict | None = None) -> dict:
    """One local run of the learner's pipeline function ``pipeline`` with ``arguments``."""
    return _run_retrying(ctx, {"pipeline": pipeline, "arguments": arguments or {}})


def run_component(ctx, component: str, arguments: dict | None = None, artifacts: dict | None = None) -> dict:
    """One local run of the learner's component ``component`` on its own."""
    return _run_retrying(ctx, {"component": component, "arguments": arguments or {}, "artifacts": artifacts or {}})


_NO_PROCESS = ("BlockingIOError", "can't start new thread", "Resource temporarily unavailable")
RETRY_DELAYS = (1.0, 3.0)


def _run_retrying(ctx, job: dict) -> dict:
    """``_run_one``, again after a pause when the run could not even start a process or thread.

    The process limit binds per user, and every sandboxed worker runs as the
    same user: a neighbour's burst of threads can make a fork fail here. That
    is not the learner's doing, so it is retried (a couple of times only).
    """
    result = _run_one(ctx, job)
    for delay in RETRY_DELAYS:
        if not any(marker in (result.get("error") or "") for marker in _NO_PROCESS):
            break
        time.sleep(delay)
        result = _run_one(ctx, job)
        result["retried"] = result.get("retried", 0) + 1
    return result


# --------------------------------------------------------------------------- running

def _run_one(ctx, job: dict) -> dict:
    """Run one job and report it as data.

    Result::

        {"ok": bool,             # the call returned and every task succeeded
         "error": str | None,    # why not (kfp's failure message, or the exception raised)
         "failed_tasks": [...],  # task names kfp reported as failed
         "task_errors": {task: "NameError: name 'math' is not defined"},  # best effort
         "errors": [...],        # exception lines seen in the run's logs (best effort)
         "tasks": {rel_dir: {"parameters": {...},
                             "artifacts": {name: {"metadata": {...}, "content": bytes | None,
                                                  "is_dir": bool}}}},
         "files": [...],         # every file of the run directory, relative to it
         "timed_out": bool}      # the job's "timeout" (seconds, default 60) stopped its tasks

    plus ``"retried": n`` when the run had to be started again (see ``_run_retrying``).
    """
    from kfp import dsl, local

    name = job.get("pipeline") or job.get("component")
    arguments = dict(job.get("arguments") or {})
    artifacts = dict(job.get("artifacts") or {})
    base = ctx.scratch / "kfp-runs" / f"{next(_counter):03d}-{_safe(name)}"
    root = base / "root"
    workspace = base / "workspace"
    root.mkdir(parents=True, exist_ok=True)
    workspace.mkdir(parents=True, exist_ok=True)
    _skip_pip(ctx.scratch)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
               workspace_root=str(workspace), raise_on_error=True)

    error = None
    log = _LogLines()
    # kfp.local indents task logs by swapping builtins.print; loop iterations
    # running in threads can leave the swapped one behind. Put it back.
    original_print = builtins.print
    watchdog = _Watchdog(float(job.get("timeout") or DEFAULT_JOB_SECONDS))
    try:
        target = _learner_object(ctx, name)
        if job.get("component") and artifacts:
            target = _harness(dsl, target, arguments, artifacts, ctx.scratch)
            arguments = {}
        with watchdog, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            target(**arguments)
    except Exception as exc:  # noqa: BLE001 - reported as data
        error = _describe(exc)
    finally:
        builtins.print = original_print
    if watchdog.fired:
        error = (f"TimeoutError: the run took longer than {watchdog.seconds:g} seconds; its tasks were stopped"
                 + (f" ({error})" if error else ""))

    logged = log.getvalue()
    text = logged + "\n" + (error or "")
    failed = _FAILED_TASK.findall(text)
    result = {
        "ok": error is None,
        "error": error,
        "failed_tasks": sorted(set(failed) | set(_fail_stack(error))),
        "task_errors": _task_errors(text),
        "errors": _exception_lines(logged),
        "tasks": {},
        "files": [],
        "timed_out": watchdog.fired,
    }
    run_dirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.exists() else []
    if len(run_dirs) == 1:
        result["tasks"], result["files"] = _read_run(run_dirs[0], root)
        if job.get("component") and artifacts:
            # only the learner's component, not the trusted importer
            result["tasks"] = {k: v for k, v in result["tasks"].items() if not k.startswith("importer")}
    return result


DEFAULT_JOB_SECONDS = 60.0


class _LogLines(io.TextIOBase):
    """Where a run's logs go: only the lines feedback needs, and only the last few thousand.

    A component printing without end must not fill the worker's memory.
    """

    def __init__(self, keep: int = 2000):
        self._lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        chunk = self._partial + text
        lines = chunk.split("\n")
        self._partial = lines.pop()[-4000:]
        for line in lines:
            self._keep(line)
        return len(text)

    def _keep(self, line: str) -> None:
        line = _ANSI.sub("", line[:4000])
        if _EXECUTING_TASK.search(line) or _FAILED_TASK.search(line) or _EXCEPTION_LINE.match(line):
            self._lines.append(line)

    def getvalue(self) -> str:
        if self._partial:
            self._keep(self._partial)
            self._partial = ""
        return "\n".join(self._lines)


class _Watchdog:
    """Kill every process this worker started once a job has run for ``seconds``.

    kfp.local has no time limit: a component stuck in an endless loop would
    hold the whole batch of runs until the worker's call limit kills
    everything. Killing the task processes instead makes that task fail (and
    any later task of the job, at once), and the next job starts on time.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return False

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.fired = True
        while not self._done.is_set():
            for pid in _descendants(os.getpid()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self._done.wait(0.2)


def _descendants(root: int) -> list[int]:
    """Every live descendant process of ``root``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


_PIP_SHIM = """\
# Put first on PYTHONPATH by grader.recipes.kfp for kfp.local's task subprocesses.
# Every task command starts with `python -m pip install kfp==<version> --no-deps`
# (plus any packages_to_install). Everything is installed already and the
# sandbox has no network, so that step could only cost time (a third of a
# second per task): it succeeds at once instead. Nothing else is changed.
import sys
sys.exit(0)
"""


def _skip_pip(scratch: Path) -> None:
    """Make the task subprocesses' ``python -m pip install ...`` a no-op (see ``_PIP_SHIM``)."""
    shim = scratch / "kfp-pip-shim"
    if not (shim / "pip" / "__main__.py").is_file():
        (shim / "pip").mkdir(parents=True, exist_ok=True)
        (shim / "pip" / "__init__.py").write_text("")
        (shim / "pip" / "__main__.py").write_text(_PIP_SHIM)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(shim)]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(shim), *paths])
    os.environ["PIP_NO_INDEX"] = "1"  # should a real pip ever run: never reach for an index
    os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"


def _harness(dsl, component, arguments: dict, artifacts: dict, scratch: Path):
    """A pipeline feeding trusted files to ``component`` through importers."""
    imports = {}
    for input_name, spec in artifacts.items():
        path = (scratch / spec["file"]).resolve()
        if not path.is_relative_to(scratch.resolve()):
            raise ValueError(f"{spec['file']!r} is outside the scratch directory")
        imports[input_name] = (str(path), getattr(dsl, spec.get("type", "Artifact")))

    @dsl.pipeline(name="component-harness")
    def harness():
        kwargs = dict(arguments)
        for input_name, (uri, cls) in imports.items():
            kwargs[input_name] = dsl.importer(artifact_uri=uri, artifact_class=cls, reimport=True).output
        component(**kwargs)

    return harness


def _read_run(run_dir: Path, pipeline_root: Path) -> tuple[dict, list]:
    tasks: dict[str, dict] = {}
    files: list[str] = []
    for directory, dirnames, filenames in os.walk(run_dir):
        dirnames.sort()
        rel_dir = os.path.relpath(directory, run_dir)
        for filename in sorted(filenames):
            files.append(os.path.normpath(os.path.join(rel_dir, filename)))
        if "executor_output.json" not in filenames:
            continue
        path = Path(directory) / "executor_output.json"
        entry: dict[str, Any] = {"parameters": {}, "artifacts": {}, "malformed": False}
        try:
            output = json.loads(path.read_text())
        except (OSError, ValueError):
            entry["malformed"] = True
            tasks[rel_dir] = entry
            continue
        if not isinstance(output, dict):
            entry["malformed"] = True
            tasks[rel_dir] = entry
            continue
        params = output.get("parameterValues") or {}
        entry["parameters"] = _plain(params) if isinstance(params, dict) else {}
        for art_name, holder in (output.get("artifacts") or {}).items():
            items = holder.get("artifacts") if isinstance(holder, dict) else None
            item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
            entry["artifacts"][str(art_name)] = _artifact(item, pipeline_root)
        tasks[rel_dir] = entry
    return tasks, files


def _artifact(item: dict, pipeline_root: Path) -> dict:
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    found = {"metadata": _plain(metadata), "content": None, "is_dir": False}
    uri = item.get("uri")
    if not isinstance(uri, str):
        return found
    path = Path(uri)
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(pipeline_root.resolve()) or path.is_symlink():
            return found
        if resolved.is_dir():
            found["is_dir"] = True
        elif resolved.is_file() and resolved.stat().st_size <= MAX_ARTIFACT_BYTES:
            found["content"] = resolved.read_bytes()
    except OSError:
        pass
    return found


# --------------------------------------------------------------------------- helpers

def _learner_object(ctx, name: str):
    if ctx.module is None:
        raise RuntimeError("no learner module in this worker")
    obj = getattr(ctx.module, name, None)
    if obj is None:
        raise AttributeError(f"your module does not define {name!r}")
    return obj


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON data as wire data (drop anything odd rather than fail the whole run)."""
    if depth > 20:
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    return repr(value)


def _describe(exc: BaseException) -> str:
    return _ANSI.sub("", f"{type(exc).__name__}: {exc}")[:2000]


def _fail_stack(error: str | None) -> list[str]:
    if not error:
        return []
    match = re.search(r"Inner task failed: (.*?)\.?$", error)
    if not match:
        return []
    return re.findall(r"'([^']+)'", match.group(1))


def _exception_lines(text: str) -> list[str]:
    seen: list[str] = []
    for line in text.splitlines():
        match = _EXCEPTION_LINE.match(line)
        if match and "kfp" not in match.group(1) and not match.group(1).endswith("Warning"):
            summary = f"{match.group(1)}: {match.group(2) or ''}".strip().rstrip(":")
            if summary not in seen:
                seen.append(summary[:300])
    return seen[-MAX_ERRORS:]


def _task_errors(text: str) -> dict:
    """The last exception line printed between a task's start and its FAILURE line.

    Best effort: with loop iterations running two at a time, logs interleave.
    """
    errors: dict[str, str] = {}
    current: str | None = None
    last: str | None = None
    for line in text.splitlines():
        started = _EXECUTING_TASK.search(line)
        if started:
            current, last = started.group(1), None
            continue
        failed = _FAILED_TASK.search(line)
        if failed:
            if last and current == failed.group(1):
                errors[failed.group(1)] = last
            continue
        match = _EXCEPTION_LINE.match(line)
        if match and not match.group(1).endswith("Warning"):
            last = f"{match.group(1)}: {match.group(2) or ''}".strip().rstrip(":")[:300]
    return errors


def _safe(name: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:40]
