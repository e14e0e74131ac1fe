"""The worker: runs inside the sandbox, imports the learner module and serves calls.

Requests and answers travel on two pipes of their own; the learner's stdout
and stderr go elsewhere, so nothing printed can pass for a result. Everything
here is assumed compromised once learner code has run: the trusted side
treats every answer as untrusted data.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from grader import lean_imports
from grader.sandbox import recipes
from grader.sandbox import landlock
from grader.sandbox import wire
from grader.sandbox.processes import become_subreaper, make_non_dumpable

MAX_MESSAGE = 4000
MAX_READ = 256 * 1024 * 1024


def main(argv: list[str] | None = None) -> None:
    options = _parse(argv)
    if options.warm_control is not None:
        _serve_warm(options)
        return
    if options.landlock or options.pid_namespace:
        # A session keyring of its own before anything else: the grader's session keyring, which every
        # worker would otherwise inherit and possess, is out of reach (under Landlock the filter then
        # refuses every keyring call too).
        landlock.own_session_keyring()
    if options.drop_to is not None:
        # Under bubblewrap /tmp is the sandbox's own; under Landlock it is the host's and stays as it is.
        drop_privileges(options.drop_to, [options.scratch, "/tmp"] if options.pid_namespace else [options.scratch])
    if options.drop_capabilities is not None:
        if options.drop_capabilities:
            landlock.count_processes_as(options.drop_capabilities)
        landlock.drop_capabilities()
    if options.landlock:
        # No PID namespace: orphans of the learner's processes must stay below this one, to be killed with it.
        become_subreaper()
        landlock.confine(landlock.Rules(**json.loads(options.landlock)))
        landlock.restrict_system_calls(owns_host_files=options.drop_to is None)
    if not options.module_name:
        # A worker without learner code may still start learner code (the
        # pipeline runner's tasks): under the same uid, those must not reach
        # this process's memory or descriptors through ptrace or /proc.
        make_non_dumpable()
    requests = os.fdopen(options.request_fd, "rb")
    answers = os.fdopen(options.answer_fd, "wb")
    os.chdir(options.scratch)
    server = Server(Path(options.scratch), options.pid_namespace)
    ready = server.start(options.preload, options.module_dir, options.module_name)
    wire.write_message(answers, ready)
    if not ready["ok"]:
        return
    _ready_hooks(options.preload, server)
    while True:
        try:
            request, blobs = wire.read_message(requests)
        except EOFError:
            return
        answer, out_blobs = server.handle(request, blobs)
        wire.write_message(answers, answer, out_blobs)


def _ready_hooks(preload: str, server: "Server") -> None:
    """A preloaded recipe module's ``worker_ready(ctx)``, once the worker is confined and has said it is ready:
    work its recipes will need, started while the tests still prepare (the pipeline runner's task parent)."""
    for name in filter(None, preload.split(",")):
        if not name.startswith(f"{recipes.__name__}."):
            continue
        hook = getattr(sys.modules.get(name), "worker_ready", None)
        if hook is not None:
            try:
                hook(recipes.Context(server.module, server.scratch, server.pid_namespace))
            except Exception:  # noqa: BLE001 - an optimisation: the recipe does the same work when first called
                pass


def _serve_warm(options: argparse.Namespace) -> None:
    """A warm parent (``grader/sandbox/warm_parent.py``): the libraries imported, then a fork per worker."""
    from grader.sandbox import warm_parent

    make_non_dumpable()
    if options.landlock:
        # Its rules, which each fork narrows to its own folder; no identity change and no system call
        # filter here: each fork takes its uid and its filter itself. A subreaper: what escapes a fork's
        # keeper (it can be signalled only where Landlock does not scope signals) stays below the pool.
        become_subreaper()
        landlock.confine(landlock.Rules(**json.loads(options.landlock)))
    if not Server(Path(options.scratch)).start(options.preload, None, None)["ok"]:
        return  # the pool's end closes: every fork asked of it fails over to a cold worker
    _recipe_modules()  # every worker with learner code imports them before the module (``_Pristine``)
    # What the libraries allocated stays out of the collector's reach: a fork's collections then walk only
    # its own objects, and leave the parent's pages shared instead of touching every one of them.
    gc.freeze()
    warm_parent.serve(options.warm_control, json.loads(options.read_only_roots or "[]"), main)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grader.sandbox.server")
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--module-dir")
    parser.add_argument("--module-name")
    parser.add_argument("--preload", default="")
    parser.add_argument("--drop-to", type=int)
    parser.add_argument("--pid-namespace", action="store_true")  # a PID namespace of its own (bubblewrap)
    parser.add_argument("--landlock", help="the Landlock rules (JSON) to confine this process to")
    parser.add_argument("--drop-capabilities", type=int, metavar="UID",
                        help="stay root without capabilities, processes counted as UID")
    parser.add_argument("--request-fd", type=int)
    parser.add_argument("--answer-fd", type=int)
    parser.add_argument("--warm-control", type=int, help="serve forks of this process on this socket")
    parser.add_argument("--read-only-roots", help="the host folders bound read-only (JSON), for the forks")
    return parser.parse_args(argv)


def drop_privileges(uid: int, writable: list[str]) -> None:
    """Become an unprivileged user: as root, a process limit would bind nothing.

    The first writable folder is the scratch directory, which may already hold files (under
    Landlock, the module's copy): it is handed over whole. The others (bubblewrap's /tmp, where
    a checkout under /tmp is bound read-only) only at their top.
    """
    for path in writable:
        os.chown(path, uid, uid)
    for directory, dirnames, filenames in os.walk(writable[0]):
        for name in dirnames + filenames:
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


class Server:
    def __init__(self, scratch: Path, pid_namespace: bool = False):
        self.scratch = scratch
        self.pid_namespace = pid_namespace
        self.module = None
        self.module_file: str | None = None
        self._pristine: _Pristine | None = None
        self._threads = 0  # OS threads before the learner module was imported

    def start(self, preload: str, module_dir: str | None, module_name: str | None) -> dict:
        try:
            for name in filter(None, preload.split(",")):
                lean_imports.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - reported, not raised
            return {"ok": False, "stage": "preload", "error": _describe(exc, None)}
        if not module_name:
            return {"ok": True}
        self._pristine = _Pristine.of_recipes()
        self._threads = _thread_count()
        path = Path(module_dir) / f"{module_name}.py"
        self.module_file = str(path)
        try:
            self.module = _import_learner_module(path, module_name)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import included
            return {"ok": False, "stage": "import", "error": _describe(exc, self.module_file)}
        return {"ok": True}

    def handle(self, request: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        try:
            value = self._dispatch(request, blobs)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an answer
            return {"ok": False, "error": _describe(exc, self.module_file)}, []
        try:
            tree, out_blobs = wire.encode(value)
        except wire.WireError as exc:
            return {"ok": False, "error": {"type": "WireError", "message": str(exc), "traceback": ""}}, []
        return {"ok": True, "value": tree}, out_blobs

    def _dispatch(self, request: dict, blobs: list[bytes]) -> Any:
        op = request.get("op")
        if self._pristine is not None:
            self._pristine.restore()
        context = recipes.Context(self.module, self.scratch, self.pid_namespace)
        if op in ("call", "recipe"):
            args = wire.decode(request.get("args", []), blobs, build=self._build)
            kwargs = wire.decode(request.get("kwargs", {}), blobs, build=self._build)
            if op == "recipe":
                return recipes.resolve(request["name"])(context, *args, **kwargs)
            result = self._function(request["name"])(*args, **kwargs)
            if request.get("then"):
                return self._then(request["then"], context, result)
            return result
        if op == "defines":
            return self.module is not None and hasattr(self.module, request["name"])
        if op == "read":
            return _scratch_file(self.scratch, request["path"]).read_bytes()
        if op == "write":
            target = _scratch_path(self.scratch, request["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blobs[0])
            return str(target)
        if op == "walk":
            return _walk(_scratch_path(self.scratch, request.get("path", ".")))
        if op == "ping":
            return "pong"
        raise ValueError(f"unknown operation {op!r}")

    def _then(self, name: str, context, result: Any) -> Any:
        """Run a ``then`` recipe on what the learner's call returned, with the recipes as they were.

        The call itself may have rewritten them, so they are restored once more;
        and a thread it left running could rewrite them again while the recipe
        reads, so the recipe runs only when no thread has appeared since the
        module was imported.
        """
        self._pristine.restore()
        if _thread_count() > self._threads:
            time.sleep(0.2)  # a thread that is just finishing
            if _thread_count() > self._threads:
                raise RuntimeError("your function left threads running when it returned; "
                                   "finish them (join) before returning")
        return recipes.resolve(name)(context, result)

    def _function(self, name: str):
        if self.module is None:
            raise RuntimeError("this worker holds no learner module")
        function = getattr(self.module, name, None)
        if function is None:
            raise AttributeError(f"your module does not define {name!r}")
        return function

    def _build(self, name: str, args: list, kwargs: dict) -> Any:
        context = recipes.Context(self.module, self.scratch, self.pid_namespace)
        return recipes.resolve(name)(context, *args, **kwargs)


class _Pristine:
    """The recipe modules as they were before learner code ran, put back before every request.

    Learner code shares this process: it can replace a recipe's helpers or their
    code to report runs that never happened. Restoring the modules' names and
    their functions' code undoes that; the recipes' results still cross, and are
    checked, as data.
    """

    def __init__(self, modules: list):
        self.names = {module: dict(vars(module)) for module in modules}
        self.code = {f: f.__code__ for module in modules for f in vars(module).values()
                     if inspect.isfunction(f) and f.__module__ == module.__name__}

    @classmethod
    def of_recipes(cls) -> "_Pristine":
        return cls(_recipe_modules() + [wire])

    def restore(self) -> None:
        for module, names in self.names.items():
            vars(module).update(names)
        for function, code in self.code.items():
            function.__code__ = code


def _recipe_modules() -> list:
    """The recipes package and each of its modules, imported."""
    package = Path(recipes.__file__).parent
    return [recipes] + [importlib.import_module(f"{recipes.__name__}.{path.stem}")
                         for path in sorted(package.glob("[a-z]*.py"))]


def _thread_count() -> int:
    """This process's OS threads, from /proc: threads of every kind, which learner code cannot hide."""
    return len(os.listdir("/proc/self/task"))


def _import_learner_module(path: Path, name: str):
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered before running it: kfp and inspect look components up by module.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _scratch_path(scratch: Path, relative: str) -> Path:
    target = (scratch / relative).resolve()
    if not target.is_relative_to(scratch.resolve()):
        raise PermissionError(f"{relative!r} is outside the scratch directory")
    return target


def _scratch_file(scratch: Path, relative: str) -> Path:
    target = scratch / relative
    if target.is_symlink():
        raise PermissionError(f"{relative!r} is a link; links are not followed")
    target = _scratch_path(scratch, relative)
    if target.stat().st_size > MAX_READ:
        raise ValueError(f"{relative!r} is larger than {MAX_READ} bytes")
    return target


def _walk(root: Path) -> list[str]:
    found = []
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames:
            found.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(found)


def _describe(exc: BaseException, learner_file: str | None) -> dict:
    """The error as data: type, message, and the frames of the learner's own file."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if learner_file and f.filename == learner_file]
    lines = traceback.format_list(own)
    if isinstance(exc, SyntaxError) and exc.filename == learner_file:
        lines.append(f'  File "{exc.filename}", line {exc.lineno}\n    {(exc.text or "").strip()}\n')
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"exit code {exc.code!r}"
    builtin = next((c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"), "Exception")
    return {
        "type": type(exc).__name__,
        "builtin": builtin,
        "message": message[:MAX_MESSAGE],
        "traceback": "".join(lines)[-MAX_MESSAGE:],
        "lineno": getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else (own[-1].lineno if own else None),
    }


if __name__ == "__main__":
    main()
