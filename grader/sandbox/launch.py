"""How a worker process is launched: bubblewrap, rlimits and a clean environment.

The sandbox mounts only what Python needs to run (the system, the Python
installation, the virtual environment and the ``grader`` package) and the
learner's module directory, read-only. Solutions, hidden tests, gradebooks,
output directories and other learners' submissions are simply not there.
"""
from __future__ import annotations

import ctypes
import functools
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable

import grader
from grader.errors import GraderError

SANDBOX_SCRATCH = "/scratch"
SANDBOX_SUBMISSION = "/submission"
SANDBOX_POOL = "/pool"  # a warm parent's inbox: a folder per fork, each fork seeing only its own
# Parts of the grader package a learner's worker must not see (grader/judging/evaluators explains why).
LEARNER_HIDDEN = ("judging",)

# When the grader is root, each worker drops to a uid of its own from this
# range: a process limit counts every process of a uid, so workers sharing
# one uid (say, nobody) would starve each other under --jobs.
WORKER_UIDS = range(200_000, 260_000)


class SandboxUnavailable(GraderError, RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096
    cpu_seconds: int = 600
    processes: int = 1024
    file_size_mb: int = 256
    open_files: int = 1024
    tmpfs_mb: int = 1024


@dataclass
class Launch:
    """Everything ``subprocess.Popen`` needs to start one worker."""

    argv: list[str]
    env: dict[str, str]
    scratch: str  # the scratch directory as the worker sees it
    preexec: Callable[[], None]
    sandboxed: bool
    uid: int | None = None  # the worker's own uid, when it has one outside a PID namespace (Landlock)
    scratch_on_disk: bool = False  # a folder on the host's disk, measured from outside (Landlock), not a tmpfs
    kill_tree: bool = False  # no PID namespace: what the worker started is found as its descendants (subreaper)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def can_sandbox() -> bool:
    """Whether bubblewrap is installed and works on this machine."""
    path = bwrap_path()
    if not path:
        return False
    probe = subprocess.run(
        [path, *_namespace_flags(), "--ro-bind", "/", "/", "true"],
        capture_output=True, timeout=30, preexec_fn=None,
    )
    return probe.returncode == 0


def _namespace_flags() -> list[str]:
    flags = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        # Unprivileged bubblewrap needs a user namespace; as root we keep the
        # real uid switch instead (see worker.drop_privileges).
        flags.insert(0, "--unshare-user")
    return flags


def _read_only_roots() -> list[Path]:
    """The host directories a worker needs, outermost first, without duplicates."""
    candidates = [Path(sys.base_prefix), Path(sys.prefix), Path(grader.__file__).resolve().parent]
    roots: list[Path] = []
    for path in candidates:
        path = path.resolve()
        if str(path).startswith(("/usr/", "/etc/")) or any(path.is_relative_to(r) for r in roots):
            continue
        roots = [r for r in roots if not r.is_relative_to(path)] + [path]
    return roots


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    return args


def _parent_dirs(path: Path) -> list[str]:
    """Create the mount point's ancestors world-readable, so a dropped uid can reach it."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if str(parent) in ("/", "/usr", "/etc", "/tmp"):
            continue
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def worker_env(scratch: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
        "GRPC_VERBOSITY": "ERROR",
        "NO_GCE_CHECK": "true",  # google-auth must not probe the metadata server
    }


def set_limits(limits: Limits, processes_base: int = 0, die_with_parent: bool = False):
    """Return a preexec function applying ``limits`` in the child before exec.

    ``die_with_parent``: what bubblewrap's --die-with-parent does, where there is no bubblewrap.
    """

    def apply() -> None:
        os.setsid()
        if die_with_parent:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes_base + limits.processes,) * 2)

    return apply


def _own_task_count(uid: int | None = None) -> int:
    """Tasks already running as ``uid`` (default: this one): an rlimit on processes counts them too."""
    if uid is None and os.geteuid() == 0:
        return 0  # the limit binds only once the worker has dropped to its own uid
    uid = os.getuid() if uid is None else uid
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(entry / "task"))
            except OSError:
                continue
    return count


# The worker must import the very grader package the trusted side runs (and
# that the sandbox mounts), whatever the interpreter's site-packages say: an
# editable install's finder would point at a checkout the sandbox lacks.
_BOOT = ("import sys, runpy; sys.path.insert(0, sys.argv.pop(1)); "
         "sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith('__editable__')]; "
         "runpy.run_module('grader.sandbox.server', run_name='__main__', alter_sys=True)")


def _worker_entry(package_parent: Path | None = None) -> list[str]:
    return ["-I", "-u", "-B", "-c", _BOOT, str(package_parent or _grader_dir().parent)]


def worker_uid() -> int:
    """An unused uid for one worker: random in a range no account uses."""
    return secrets.choice(WORKER_UIDS)


def launch(worker_args: list[str], module_dir: Path | None, limits: Limits, sandbox: "Sandbox",
           host_scratch: Path, runs_learner_code: bool | None = None, own_identity: bool = False,
           pool_dir: Path | None = None) -> Launch:
    """Build the command that starts ``python -m grader.sandbox.server`` with ``worker_args``.

    ``runs_learner_code`` (by default: whether a learner module is given)
    hides the grader's reference code; the pipeline runner holds no learner
    module but starts the learner's components. ``own_identity``: where
    Landlock workers run as root without capabilities, this one still counts
    its processes against a uid of its own (``grader.sandbox.proxy.WorkerSpec``). ``pool_dir``: the
    worker is a warm parent (``grader/sandbox/warm_parent.py``) with this inbox; it stays root of its
    sandbox, to give each fork namespaces and a uid of its own.
    """
    if runs_learner_code is None:
        runs_learner_code = module_dir is not None
    if sandbox is Sandbox.LANDLOCK:
        return _landlock_launch(worker_args, module_dir, limits, host_scratch, runs_learner_code, own_identity,
                                pool_dir)
    python = sys.executable
    preexec = set_limits(limits, _own_task_count())
    if sandbox is Sandbox.NONE:
        env = worker_env(str(host_scratch))
        args = [python, *_worker_entry(), "--scratch", str(host_scratch)]
        if module_dir is not None:
            args += ["--module-dir", str(module_dir)]
        return Launch(args + worker_args, env, str(host_scratch), preexec, False)

    path = bwrap_path()
    if not path:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    env = worker_env(SANDBOX_SCRATCH)
    argv = [path, *_namespace_flags(), "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    tmpfs_bytes = str(limits.tmpfs_mb * 1024 * 1024)
    # The in-memory folders come first: a checkout that lives under /tmp is
    # bound on top of them, not hidden by them.
    argv += [
        "--perms", "1777", "--size", tmpfs_bytes, "--tmpfs", "/tmp",
        "--perms", "0777", "--size", tmpfs_bytes, "--tmpfs", SANDBOX_SCRATCH,
        "--proc", "/proc", "--dev", "/dev",
    ]
    argv += _system_mounts()
    for root in _read_only_roots():
        argv += _parent_dirs(root) + ["--ro-bind", str(root), str(root)]
    if module_dir is not None:
        argv += ["--ro-bind", str(module_dir), SANDBOX_SUBMISSION]
    if pool_dir is not None:
        argv += ["--bind", str(pool_dir), SANDBOX_POOL, "--dir", SANDBOX_SUBMISSION]
    if runs_learner_code:
        for folder in LEARNER_HIDDEN:
            # Empty folders over the code that computes reference answers: one
            # import away from a submission otherwise.
            argv += ["--tmpfs", str(_grader_dir() / folder)]
    argv += ["--chdir", SANDBOX_SCRATCH]
    argv += [python, *_worker_entry(), "--scratch", SANDBOX_SCRATCH, "--pid-namespace"]
    if module_dir is not None:
        argv += ["--module-dir", SANDBOX_SUBMISSION]
    if pool_dir is not None:
        argv += ["--read-only-roots", json.dumps([str(r) for r in _read_only_roots()])]
    elif os.geteuid() == 0:
        argv += ["--drop-to", str(worker_uid())]
    return Launch(argv + worker_args, env, SANDBOX_SCRATCH, preexec, True)


def _landlock_launch(worker_args: list[str], module_dir: Path | None, limits: Limits, host_scratch: Path,
                     runs_learner_code: bool, own_identity: bool, pool_dir: Path | None = None) -> Launch:
    """The worker confines itself with Landlock (see ``grader/sandbox/landlock.py``) before anything else runs.

    There is no private mount tree, so the module is copied into the worker's
    scratch directory, which is the one place it may write (its ``TMPDIR``
    too). The rules name what it may read: the system, the Python
    installation and the grader package, less the reference code when it
    runs learner code. A warm parent (``pool_dir``) may also write its inbox,
    where each fork confines itself further to its own folder.
    """
    host_scratch.chmod(0o755)  # a worker of its own uid must pass through to its folders
    lib = _package_link(host_scratch)
    worker = landlock_worker(module_dir, host_scratch, runs_learner_code, own_identity, lib, pool_dir)
    args = [sys.executable, *_worker_entry(lib), *worker.args]
    preexec = set_limits(limits, _own_task_count(), die_with_parent=True)
    return Launch(args + worker_args, worker.env, str(worker.scratch), preexec, True, worker.uid,
                  scratch_on_disk=True, kill_tree=True)


def _package_link(host_scratch: Path) -> Path:
    """The grader package is imported through a folder that holds only a link to it: the checkout
    around it (solutions, exercises) is never readable, and this folder is not writable."""
    lib = (host_scratch / "lib").resolve()
    lib.mkdir()
    (lib / "grader").symlink_to(_grader_dir(), target_is_directory=True)
    return lib


@dataclass
class LandlockWorker:
    """A Landlock worker's own part of its launch: its server arguments, environment, uid and scratch."""

    args: list[str]
    env: dict[str, str]
    uid: int | None
    scratch: Path


def landlock_worker(module_dir: Path | None, host_scratch: Path, runs_learner_code: bool, own_identity: bool,
                    lib: Path, pool_dir: Path | None = None) -> LandlockWorker:
    """What a Landlock worker confines itself to, in ``host_scratch``: a cold worker's, a fork's (``lib`` is
    then its warm parent's), or a warm parent's (``pool_dir``: it keeps its uid, to give each fork its own)."""
    from grader.sandbox.landlock import PROC_ALL, PROC_OWN, SYSTEM_READ, SYSTEM_WRITE, Rules

    scratch = (host_scratch / "work").resolve()
    (scratch / "tmp").mkdir(parents=True)
    args = ["--scratch", str(scratch)]
    if module_dir is not None:
        copy = scratch / "submission"
        shutil.copytree(module_dir, copy, symlinks=False)
        args += ["--module-dir", str(copy)]
    grader_dir = _grader_dir()
    if runs_learner_code:
        # The package's folder may be listed (names only); the reference code in it is not readable.
        package = [str(p) for p in sorted(grader_dir.iterdir()) if p.name not in LEARNER_HIDDEN]
        listed = [str(grader_dir)]
    else:
        package, listed = [str(grader_dir)], []
    # The pipeline runner reads its tasks' processes, and a warm parent lists its own descriptors.
    proc = PROC_OWN if module_dir is not None else PROC_ALL
    rules = Rules(read=[*SYSTEM_READ, *proc, *(str(r) for r in _read_only_roots() if r != grader_dir), *package,
                        str(lib)],
                  write=[str(scratch), *SYSTEM_WRITE, *([str(pool_dir)] if pool_dir is not None else [])],
                  list_only=listed)
    args += ["--landlock", json.dumps(rules.to_dict())]
    uid = None
    identity = _landlock_identity() if pool_dir is None else None
    if identity == OWN_UID:
        uid = worker_uid()
        args += ["--drop-to", str(uid)]
    elif identity == ROOT_WITHOUT_CAPABILITIES:
        # The kernel never limits real root's processes; a worker whose spec allows it counts its
        # own against a uid of its own (the others stay real root: docs/security.md, known limits).
        args += ["--drop-capabilities", str(worker_uid() if own_identity else 0)]
    env = worker_env(str(scratch))
    env["TMPDIR"] = str(scratch / "tmp")
    return LandlockWorker(args, env, uid, scratch)


OWN_UID = "own uid"
ROOT_WITHOUT_CAPABILITIES = "root without capabilities (the interpreter is reachable by root only)"
GRADER_UID = "the grader's uid"


def _landlock_identity() -> str:
    """Who a Landlock worker runs as: as root, a uid of its own when the interpreter lets other users in."""
    if os.geteuid() != 0:
        return GRADER_UID
    return OWN_UID if _reachable_by_others(_read_only_roots()) else ROOT_WITHOUT_CAPABILITIES


def _reachable_by_others(paths: list[Path]) -> bool:
    """Whether a process of another uid can reach every path (each folder on the way searchable by others)."""
    for path in paths:
        for folder in [*reversed(Path(path).resolve().parents), Path(path).resolve()]:
            try:
                if not folder.stat().st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


def _grader_dir() -> Path:
    return Path(grader.__file__).resolve().parent


# --------------------------------------------------------------------------- choosing a sandbox

class Sandbox(str, Enum):
    """Where learner code runs, strongest first."""

    BWRAP = "bwrap"        # namespaces: a private mount tree, PID and network namespaces
    LANDLOCK = "landlock"  # where namespaces are denied (containers): filesystem, TCP and scope rules
    NONE = "none"          # no confinement: only when asked for explicitly

    @property
    def confines(self) -> bool:
        return self is not Sandbox.NONE


CHOICES = ("auto", "bwrap", "landlock", "none")
_chosen: dict[str, Sandbox] = {}


def choose(requested: str = "auto") -> Sandbox:
    """The sandbox for ``requested`` (auto, bwrap, landlock or none); ``SandboxUnavailable`` says why not."""
    requested = (requested or "auto").lower()
    if requested not in CHOICES:
        raise SandboxUnavailable(f"unknown sandbox {requested!r}; choose one of {', '.join(CHOICES)}")
    if requested in _chosen:
        return _chosen[requested]
    if requested == "none":
        found = Sandbox.NONE
    elif requested == "bwrap" or (requested == "auto" and can_sandbox()):
        if not can_sandbox():
            raise SandboxUnavailable("bubblewrap (bwrap) is missing or cannot create namespaces here "
                                     "(inside a container, try --sandbox landlock)")
        found = Sandbox.BWRAP
    else:
        from grader.sandbox.landlock import abi_version

        if abi_version() < 1:
            raise SandboxUnavailable("no sandbox is available: bubblewrap cannot create namespaces here and "
                                     "the kernel has no Landlock (Linux 5.13 or newer, enabled at boot)")
        found = Sandbox.LANDLOCK
    _chosen[requested] = found
    return found


def protections(sandbox: Sandbox) -> dict:
    """What was in force for a grading, as recorded in results and the gradebook."""
    root = os.geteuid() == 0
    if sandbox is Sandbox.BWRAP:
        found = ["namespaces (mount, PID, network, IPC, UTS)", "read-only system", "private /tmp", "rlimits",
                 "own uid" if root else "user namespace"]
        return {"kind": sandbox.value, "protections": found}
    if sandbox is Sandbox.LANDLOCK:
        from grader.sandbox.landlock import abi_version, protections as landlock_protections

        abi = abi_version()
        return {"kind": sandbox.value, "abi": abi, "protections": landlock_protections(abi, _landlock_identity())}
    return {"kind": sandbox.value, "protections": []}
