"""Local runs of compiled KFP packages, in the pipeline runner.

The pipeline runner is a sandboxed worker that never imports learner code:
the learner's worker only compiles (``grader/sandbox/recipes/kfp.py``) and its
packages cross as YAML bytes. Here each package is loaded with kfp's own
loader and run with ``kfp.local``'s subprocess runner. Its tasks are the
learner's components, so they are treated as hostile:

- Tasks run one at a time (loop iterations too), each in a session of its
  own, from an environment built here (nothing inherited, none of the
  package's environment variables) with Python's safe path, in a fresh
  working directory. The one thing on their ``PYTHONPATH`` is the pip shim,
  read-only in the grader package: nothing a task leaves on disk is
  imported by the next.
- When a task ends, every other process in the sandbox is killed, then the
  task's outputs are read from its own folder of the pipeline root
  (``executor_output.json`` and its output artifact files) and kept. What a
  later task writes there changes nothing: a component cannot forge another
  one's outputs.
- This process is non-dumpable (see ``grader/sandbox/server.py``): tasks share its
  uid but cannot read or write its memory or descriptors.

Nothing a task prints counts as a result. A task's own printed exception
line is kept for public feedback only; hidden feedback uses what is known
here without trusting the task: which tasks failed (kfp's task names), a
timeout, and what the component's compiled source shows (``diagnose``).
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.fork_server import ParentGone
from grader.sandbox.processes import ancestors, become_subreaper, kill_descendants
from grader.sandbox.task_parent import TaskParent, kfp_task

MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
MAX_RUN_BYTES = 32 * 1024 * 1024  # all artifact contents kept of one run: a package with many tasks stays small
MAX_TASK_FILES = 64
DEFAULT_JOB_SECONDS = 60.0
PIP_SHIM = Path(__file__).resolve().parent / "pip_shim"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(
    r"^\s*((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt))(?::\s?(.*))?$")
_NO_PROCESS = ("BlockingIOError", "can't start new thread", "Resource temporarily unavailable")
RETRY_DELAYS = (1.0, 3.0)
_counter = itertools.count()
_one_task_at_a_time = threading.Lock()


@dataclass
class _Job:
    """What the task handler learns about the run in progress; only trusted code writes it."""

    base: Path
    root: Path
    deadline: float
    seconds: float
    pid_namespace: bool
    tasks: dict = field(default_factory=dict)      # task path in the run -> outputs, read when it ended
    failed: list = field(default_factory=list)     # task names kfp ran that failed
    printed: dict = field(default_factory=dict)    # task name -> its last printed exception line
    timed_out: bool = False
    kept_bytes: int = 0


_job: _Job | None = None
_tasks: TaskParent | None = None  # this runner's task parent, started with its first run


# --------------------------------------------------------------------------- the recipe

def run(ctx, jobs: list) -> list:
    """Run compiled packages one after another; one result each.

    A job: ``{"package": bytes, "arguments": {...}, "timeout": seconds,
    "artifacts": {input: {"content": bytes, "type": "Dataset"}}}``. A package
    is a pipeline, or one component compiled alone; a component with artifact
    inputs is fed them by importers in a two-step harness pipeline (kfp.local
    cannot call such a component alone). Result::

        {"ok": bool,             # every task succeeded
         "error": str | None,    # what kfp raised ("Type: message"), if anything
         "failed_tasks": [...],  # names of the tasks that failed
         "task_errors": {task: "NameError: ..."},  # the task's own printed line: public feedback only
         "diagnoses": {component: {"undefined": [...], "annotations": [...], "not_implemented": bool}},
         "tasks": {path: {"parameters": {...}, "artifacts": {name: {"metadata", "content", "is_dir"}}}},
         "timed_out": bool}
    """
    _install_task_handler()
    _start_task_parent(ctx)
    return [_run_retrying(ctx, job) for job in jobs]


def worker_ready(ctx) -> None:
    """The runner is ready: its task parent starts now, its imports overlapping the learner's compile."""
    _install_task_handler()
    _start_task_parent(ctx)


def _start_task_parent(ctx) -> None:
    """Once per runner, from its main thread (a task parent dies with the thread that started it)."""
    global _tasks
    if _tasks is None:
        cwd = ctx.scratch / "kfp-task-parent"
        cwd.mkdir(exist_ok=True)
        _tasks = TaskParent(_task_env(cwd), cwd)


def _run_retrying(ctx, job: dict) -> dict:
    """``_run_one``, again after a pause when a process or thread could not even start.

    The process limit binds per uid; a burst of the tasks' own threads can make
    the next fork fail. That is not a verdict on the code, so it is retried.
    """
    result = _run_one(ctx, job)
    for delay in RETRY_DELAYS:
        if not any(marker in (result.get("error") or "") for marker in _NO_PROCESS):
            break
        time.sleep(delay)
        result = _run_one(ctx, job)
    return result


def _run_one(ctx, job: dict) -> dict:
    global _job
    from kfp import components, dsl, local

    seconds = float(job.get("timeout") or DEFAULT_JOB_SECONDS)
    base = ctx.scratch / "kfp-runs" / f"{next(_counter):03d}"
    root = base / "root"
    for folder in (root, base / "workspace", base / "cwd", base / "inputs"):
        folder.mkdir(parents=True, exist_ok=True)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
               workspace_root=str(base / "workspace"), raise_on_error=True)
    _job = job_state = _Job(base, root, time.monotonic() + seconds, seconds, bool(getattr(ctx, "pid_namespace", True)))
    error = None
    # kfp.local indents task logs by swapping builtins.print; loop iterations in
    # threads can leave the swapped one behind. Put it back.
    original_print = builtins.print
    diagnoses = {}
    try:
        text = bytes(job["package"]).decode("utf-8")
        diagnoses = package_diagnoses(text)
        target = components.load_component_from_text(text)
        arguments = dict(job.get("arguments") or {})
        if job.get("artifacts"):
            target = _harness(dsl, target, arguments, job["artifacts"], base / "inputs")
            arguments = {}
        with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()):
            target(**arguments)
    except Exception as exc:  # noqa: BLE001 - reported as data
        error = _describe(exc)
    finally:
        builtins.print = original_print
        _job = None
    if job_state.timed_out:
        error = f"TimeoutError: the run took longer than {seconds:g} seconds; its tasks were stopped"
    return {
        "ok": error is None and not job_state.failed,
        "error": error,
        "failed_tasks": sorted(set(job_state.failed)),
        "task_errors": dict(job_state.printed),
        "diagnoses": diagnoses,
        "tasks": job_state.tasks,
        "timed_out": job_state.timed_out,
    }


def _harness(dsl, component, arguments: dict, artifacts: dict, inputs: Path):
    """A pipeline feeding the test's files to ``component`` through importers."""
    imports = {}
    for input_name, spec in artifacts.items():
        path = inputs / f"{len(imports)}-{_safe(input_name)}"
        path.write_bytes(bytes(spec["content"]))
        imports[str(input_name)] = (str(path), getattr(dsl, str(spec.get("type", "Artifact"))))

    @dsl.pipeline(name="component-harness")
    def harness():
        kwargs = dict(arguments)
        for input_name, (uri, cls) in imports.items():
            kwargs[input_name] = dsl.importer(artifact_uri=uri, artifact_class=cls, reimport=True).output
        component(**kwargs)

    return harness


class _Discard(io.TextIOBase):
    """kfp's own log lines: nothing here reads them (task output is captured per task)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


# --------------------------------------------------------------------------- one task

def _install_task_handler() -> None:
    """Run every task through ``_run_task`` instead of kfp's own subprocess call."""
    from kfp.local import status, subprocess_task_handler

    base = subprocess_task_handler.SubprocessTaskHandler
    if getattr(base, "_hml_guarded", False):
        return
    become_subreaper()

    class GuardedTaskHandler(base):
        _hml_guarded = True

        def run(self):
            command = subprocess_task_handler.replace_python_executable(self.full_command, sys.executable)
            ok = _run_task(_job, command)
            return status.Status.SUCCESS if ok else status.Status.FAILURE

    subprocess_task_handler.SubprocessTaskHandler = GuardedTaskHandler


def _run_task(job: _Job, command: list[str]) -> bool:
    """Run one task alone; keep its outputs if it succeeded. Whether it did."""
    executor_input = _executor_input(command)
    task_dir = Path(executor_input["outputs"]["outputFile"]).parent
    path = _task_path(task_dir, job.root)
    name = path.rsplit("/", 1)[-1]
    with _one_task_at_a_time:
        remaining = job.deadline - time.monotonic()
        if remaining <= 0:
            job.timed_out = True
            job.failed.append(name)
            return False
        cwd = job.base / "cwd" / f"{next(_counter):04d}"
        cwd.mkdir()
        log = _LastException()
        process, output = _start_task(command, cwd)
        reader = threading.Thread(target=log.consume, args=(output,), daemon=True)
        reader.start()
        try:
            code = process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            job.timed_out = True
            code = None
        _kill_everything_else(job.pid_namespace)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # the task parent no longer reports (a task stopped it): it goes too
            _drop_task_parent()
            _kill_everything_else(job.pid_namespace)
        reader.join(timeout=5)
        output.close()
        if code == 0:
            job.tasks[path] = _within_budget(job, _read_task(task_dir, executor_input))
            return True
    job.failed.append(name)
    if log.last:
        job.printed[name] = log.last
    return False


def _start_task(command: list[str], cwd: Path):
    """The task's process (``wait``) and its output: forked from the task parent when the command is kfp's
    own (``grader/sandbox/task_parent.py``), else the command started as it is."""
    env = _task_env(cwd)
    known = kfp_task(command, env) if _tasks is not None else None
    if known is not None:
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        try:
            return _tasks.start(*known, env, cwd, write_end), os.fdopen(read_end, "rb")
        except ParentGone:  # a task killed or stopped it: the rest of this run starts cold
            os.close(read_end)
            _drop_task_parent()
        finally:
            os.close(write_end)
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, cwd=str(cwd), start_new_session=True, close_fds=True)
    return process, process.stdout


def _drop_task_parent() -> None:
    global _tasks
    if _tasks is not None:
        _tasks.close()
        _tasks = None


def _task_env(cwd: Path) -> dict[str, str]:
    """A task's whole environment: the worker's clean one, the pip shim, and a safe import path."""
    from grader.sandbox.launch import worker_env

    env = worker_env(str(cwd))
    env.update({
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),  # the one the sandbox gave this worker (Landlock: its scratch)
        "PYTHONPATH": str(PIP_SHIM),
        "PYTHONSAFEPATH": "1",  # neither the working directory nor a script's folder is importable
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    })
    return env


def _executor_input(command: list[str]) -> dict:
    for flag, value in zip(command, command[1:]):
        if flag == "--executor_input":
            return json.loads(value)
    raise RuntimeError("kfp gave a task command without --executor_input")


def _task_path(task_dir: Path, root: Path) -> str:
    """``reverse`` or ``for-loop-2-iteration-0/train-candidate``: the task's folder below its run's."""
    parts = task_dir.resolve().relative_to(root.resolve()).parts
    return "/".join(parts[1:])


def _component_source(command: list[str]) -> str:
    """The component module kfp embeds in a lightweight component's command."""
    for part in command:
        if "def " in part and "ephemeral_component.py" not in part:
            return part
    return ""


class _LastException:
    """A task's output, read to its end but kept only as its last exception line (public feedback)."""

    def __init__(self):
        self.last: str | None = None

    def consume(self, stream) -> None:
        for raw in iter(lambda: stream.readline(8192), b""):
            line = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\n")
            match = _EXCEPTION_LINE.match(line)
            if match and "kfp" not in match.group(1):
                self.last = f"{match.group(1)}: {match.group(2) or ''}".strip().rstrip(":")[:300]


def _kill_everything_else(pid_namespace: bool) -> None:
    """Kill what the task left running, so nothing of it acts after it ended.

    This process is a subreaper, so even a daemon that left its session is
    still a descendant; in the sandbox's PID namespace every process but this
    one and its ancestors goes too. The task parent stays (what its forks
    left does not).
    """
    me = os.getpid()
    spare = {_tasks.process.pid} if _tasks is not None else set()
    kill_descendants(me, all_but={me, *ancestors(me), *spare} if pid_namespace else None, spare=spare)


# --------------------------------------------------------------------------- reading outputs

def _read_task(task_dir: Path, executor_input: dict) -> dict:
    """The outputs of one finished task: its parameter values and its own output artifacts."""
    entry: dict[str, Any] = {"parameters": {}, "artifacts": {}, "malformed": False}
    try:
        output = json.loads(_read_bounded(Path(executor_input["outputs"]["outputFile"]), task_dir))
    except (OSError, ValueError):
        output = None
    if not isinstance(output, dict):
        entry["malformed"] = True
        return entry
    params = output.get("parameterValues") or {}
    entry["parameters"] = _plain(params) if isinstance(params, dict) else {}
    written = output.get("artifacts") if isinstance(output.get("artifacts"), dict) else {}
    declared = (executor_input["outputs"].get("artifacts") or {})
    for art_name, holder in list(declared.items())[:MAX_TASK_FILES]:
        uri = ((holder.get("artifacts") or [{}])[0]).get("uri")
        metadata = _written_metadata(written.get(art_name))
        entry["artifacts"][str(art_name)] = _artifact(uri, metadata, task_dir)
    return entry


def _within_budget(job: _Job, entry: dict) -> dict:
    """Artifact contents past the run's byte budget are dropped (read as not written)."""
    for artifact in entry["artifacts"].values():
        size = len(artifact["content"] or b"")
        if job.kept_bytes + size > MAX_RUN_BYTES:
            artifact["content"] = None
        else:
            job.kept_bytes += size
    return entry


def _written_metadata(holder: Any) -> dict:
    items = holder.get("artifacts") if isinstance(holder, dict) else None
    item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    metadata = item.get("metadata")
    return _plain(metadata) if isinstance(metadata, dict) else {}


def _artifact(uri: Any, metadata: dict, task_dir: Path) -> dict:
    """An output artifact: kfp chose its path (in the task's folder); the file there is what counts."""
    found = {"metadata": metadata, "content": None, "is_dir": False}
    if not isinstance(uri, str):
        return found
    path = Path(uri)
    with contextlib.suppress(OSError, ValueError):
        if path.is_symlink() or not path.resolve().is_relative_to(task_dir.resolve()):
            return found
        if path.is_dir():
            found["is_dir"] = True
        elif path.is_file():
            found["content"] = _read_bounded(path, task_dir)
    return found


def _read_bounded(path: Path, task_dir: Path) -> bytes:
    """A plain file inside ``task_dir``, at most ``MAX_ARTIFACT_BYTES``; never a link, FIFO or device."""
    from grader.intake.special_files import read_regular

    if path.is_symlink() or not path.resolve().is_relative_to(task_dir.resolve()):
        raise OSError(f"{path.name} is not a file of the task")
    return read_regular(path, MAX_ARTIFACT_BYTES)


# --------------------------------------------------------------------------- what the source shows

def package_diagnoses(text: str) -> dict:
    """What every component's compiled source shows, by component name: known before anything runs.

    Read for all components, not for the ones that failed: which task fails can
    depend on the inputs, which a hidden test's feedback must not reveal.
    """
    import yaml

    try:
        document = next(yaml.safe_load_all(text))
        executors = (document.get("deploymentSpec") or {}).get("executors") or {}
    except Exception:  # noqa: BLE001 - not a package kfp could load either: nothing to say
        return {}
    found = {}
    for label, spec in sorted(executors.items())[:50]:
        container = (spec or {}).get("container") or {}
        command = [str(p) for p in (container.get("command") or []) + (container.get("args") or [])]
        name = str(label).removeprefix("exec-")
        result = diagnose(_component_source(command))
        if result["undefined"] or result["not_implemented"]:
            found[name] = result
    return found


def diagnose(source: str) -> dict:
    """Why a component may fail, read from its compiled source (never from what it printed).

    ``undefined``: names the component's function reads that neither it nor
    the module kfp writes around it defines: the classic import or helper
    left at the top of the learner's file. ``annotations``: those of them
    read in the function's annotations (``typing.List[float]`` after a
    module-level ``import typing``), which are evaluated where the function
    is defined, before its body runs: an import in the body cannot help them.
    ``not_implemented``: the function still raises NotImplementedError (the
    starter's TODO).
    """
    found = {"undefined": [], "annotations": [], "not_implemented": False}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return found
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if not functions:
        return found
    function = functions[-1]
    available = _top_level_names(tree) | _star_names(tree) | set(dir(builtins)) | _locals(function)
    found["undefined"] = sorted(n for n in _reads(function) - available)[:10]
    found["annotations"] = sorted(n for n in _annotation_reads(function) - available)[:10]
    found["not_implemented"] = any(
        isinstance(node, ast.Raise) and node.exc is not None and "NotImplementedError" in ast.unparse(node.exc)
        for node in ast.walk(function))
    return found


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


def _reads(function: ast.FunctionDef) -> set[str]:
    return {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _annotation_reads(function: ast.FunctionDef) -> set[str]:
    """Names read in the function's own annotations (parameters and return), evaluated at its ``def``."""
    arguments = function.args
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [
        a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    annotations = [a.annotation for a in every if a.annotation is not None] + (
        [function.returns] if function.returns is not None else [])
    return {node.id for annotation in annotations for node in ast.walk(annotation)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _locals(function: ast.FunctionDef) -> set[str]:
    names = {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _star_names(tree: ast.Module) -> set[str]:
    """Names the embedded module's ``from X import *`` lines bring in (kfp writes ``kfp.dsl`` and ``typing``)."""
    import importlib

    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names) and node.module:
            with contextlib.suppress(Exception):
                module = importlib.import_module(node.module)
                names.update(getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")])
    return names


# --------------------------------------------------------------------------- helpers

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


def _safe(name: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:40]
