"""Record the system calls Landlock workers make, and write the allow-list ``syscalls.json`` from them.

Under Landlock the worker's seccomp filter allows only what workers were seen
to use (``grader/sandbox/seccomp.py``). This module is how that list is made,
and how it is made again after a dependency upgrade (TensorFlow, kfp, LiteRT,
glibc in a new image)::

    python -m grader.sandbox.record_syscalls            # record, show the changes
    python -m grader.sandbox.record_syscalls --write    # ... and write syscalls.json

It runs, with every Landlock worker started under ``strace -f`` (a ``sitecustomize``
on the trusted side's ``PYTHONPATH`` wraps ``grader.sandbox.launch.launch``; the
trusted processes themselves are not traced):

- ``hml validate --sandbox landlock``: every exercise's reference and starter,
  graded as they are graded (learner workers, evaluators, pipeline runners and
  the runner's task processes);
- an everyday worker: a module that does what ordinary learner code does with
  the standard library (files, folders, threads, subprocesses, time, select).

and counts, for every process from the moment it confined itself
(``landlock_restrict_self``) and every process it started afterwards, the
system calls it made, the ``ioctl`` requests and socket families it asked for,
and the ``/proc`` files it opened. Calls the filter already refuses show up
too (as attempts), so run it again after ``--write`` until nothing changes.
The system calls in ``seccomp.NEVER`` are never written to the list, whatever
was seen. Numbers for every architecture the filter supports come from
libseccomp (``pyseccomp``, a development dependency); the worker itself needs
no libseccomp.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).with_name("syscalls.json")

# A system call that libc or another build may use in place of one that was seen: allowing the one but not
# its siblings would break the same code on another architecture (aarch64 has only the *at calls) or libc.
SIBLINGS = [
    {"open", "openat", "openat2", "creat"},
    {"stat", "lstat", "fstat", "newfstatat", "statx", "fstatat64"},
    {"access", "faccessat", "faccessat2"},
    {"pipe", "pipe2"},
    {"dup", "dup2", "dup3"},
    {"poll", "ppoll"},
    {"select", "pselect6"},
    {"epoll_create", "epoll_create1"},
    {"epoll_wait", "epoll_pwait", "epoll_pwait2"},
    {"getdents", "getdents64"},
    {"mkdir", "mkdirat"},
    {"rmdir", "unlink", "unlinkat"},
    {"rename", "renameat", "renameat2"},
    {"link", "linkat"},
    {"symlink", "symlinkat"},
    {"readlink", "readlinkat"},
    {"chmod", "fchmod", "fchmodat", "fchmodat2"},
    {"chown", "lchown", "fchown", "fchownat"},
    {"utime", "utimes", "futimesat", "utimensat"},
    {"mknod", "mknodat"},
    {"eventfd", "eventfd2"},
    {"inotify_init", "inotify_init1"},
    {"signalfd", "signalfd4"},
    {"fork", "vfork", "clone"},
    {"wait4", "waitid"},
    {"time", "gettimeofday", "clock_gettime"},
    {"alarm", "setitimer", "getitimer"},
    {"pause", "ppoll"},
    {"getpgrp", "getpgid"},
    {"sendfile", "copy_file_range", "splice"},
    {"getrlimit", "prlimit64", "setrlimit"},
    {"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "readv", "writev"},
    {"nanosleep", "clock_nanosleep"},
    {"rt_sigtimedwait", "rt_sigsuspend", "rt_sigpending"},
    {"fcntl", "flock"},
    {"statfs", "fstatfs"},
    {"fsync", "fdatasync", "sync_file_range"},
    {"ftruncate", "truncate", "fallocate"},
    {"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr"},
    {"pidfd_open", "pidfd_send_signal"},
]

# Ordinary calls of any Python program on files Landlock already confines, its own memory, threads, time,
# signals (scoped to the worker's domain), children and the sockets socketpair gives: allowed whether or not a
# recording happened to take the path that makes them (an error path, a learner's own code), so a recording
# that misses one does not break ordinary code.
BASELINE = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "close_range", "openat",
    "newfstatat", "fstat", "statx", "faccessat2", "readlinkat", "getdents64", "mkdirat", "unlinkat", "renameat2",
    "linkat", "symlinkat", "fchmodat", "fchmod", "utimensat", "ftruncate", "fallocate", "fsync", "fdatasync",
    "flock", "fcntl", "dup", "dup3", "pipe2", "getcwd", "chdir", "fchdir", "umask", "statfs", "fstatfs",
    "sendfile", "copy_file_range", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr", "fadvise64", "readahead", "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "msync",
    "mincore", "membarrier", "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
    "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "getcpu", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
    "gettimeofday", "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime", "getpid",
    "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    "getpgid", "getsid", "setsid", "setpgid", "getrlimit", "prlimit64", "getrusage", "times", "sysinfo",
    "uname", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "sigaltstack", "kill", "tgkill", "tkill", "pidfd_open", "pidfd_send_signal", "execve",
    "exit", "exit_group", "wait4", "waitid", "getrandom", "eventfd2", "epoll_create1", "epoll_ctl",
    "epoll_pwait", "ppoll", "pselect6", "memfd_create", "sendmsg", "recvmsg", "sendto", "recvfrom",
    "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername", "restart_syscall", "capget",
    "arch_prctl", "prctl", "get_mempolicy",
}

# What ordinary learner code does with the standard library, run in a Landlock worker under the recorder.
EVERYDAY = '''
import json, mmap, os, select, shutil, signal, socket, subprocess, sys, tempfile, threading, time, concurrent.futures


def everyday():
    done = []
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "a.txt")
    with open(path, "w") as stream:
        stream.write("x" * 10000)
    os.makedirs(os.path.join(folder, "b", "c"), exist_ok=True)
    shutil.copytree(folder + "/b", folder + "/d")
    shutil.copy2(path, folder + "/e.txt")
    os.rename(folder + "/e.txt", folder + "/f.txt")
    os.symlink(path, folder + "/link")
    os.readlink(folder + "/link")
    os.chmod(path, 0o644)
    os.utime(path)
    os.stat(path); os.lstat(path); os.access(path, os.R_OK)
    list(os.scandir(folder)); os.listdir(folder); list(os.walk(folder))
    with open(path, "r+b") as stream:
        with mmap.mmap(stream.fileno(), 0) as mapped:
            mapped[:1]
        os.fsync(stream.fileno())
        os.truncate(stream.fileno(), 10)
    r, w = os.pipe()
    select.select([r], [w], [], 0)
    os.close(r); os.close(w)
    a, b = socket.socketpair()
    a.sendall(b"x"); b.recv(1); a.send(b"y"); b.recv_into(bytearray(1)); a.close(); b.close()
    import multiprocessing.connection
    left, right = multiprocessing.connection.Pipe()
    left.send([1]); right.recv(); left.close(); right.close()
    threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(4)]
    [t.start() for t in threads]; [t.join() for t in threads]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(abs, range(100)))
    done.append(subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True, text=True).stdout)
    done.append(subprocess.run(["sh", "-c", "echo $((1+1)) | cat"], capture_output=True, text=True).stdout)
    signal.signal(signal.SIGALRM, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 0.01)
    time.sleep(0.05)
    os.cpu_count(); os.getloadavg(); os.sched_getaffinity(0); os.times(); os.uname(); os.urandom(8)
    shutil.disk_usage(folder)
    shutil.rmtree(folder)
    return done
'''


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.sandbox.record_syscalls", description=__doc__.split("\n")[0])
    parser.add_argument("exercises", nargs="*", help="exercise ids to validate (default: every one)")
    parser.add_argument("--write", action="store_true", help=f"write {DATA.name}")
    parser.add_argument("--keep", help="keep the traces in this folder")
    parser.add_argument("--everyday-worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.everyday_worker:
        return _everyday_worker()
    if not shutil.which("strace"):
        raise SystemExit("strace is needed to record the system calls workers make")
    folder = Path(options.keep or tempfile.mkdtemp(prefix="hml-syscalls-"))
    folder.mkdir(parents=True, exist_ok=True)
    hml = [sys.executable, "-m", "grader.cli"]
    runs = {"validate": [*hml, "validate", "--sandbox", "landlock", *options.exercises],
            "everyday": [sys.executable, "-m", "grader.sandbox.record_syscalls", "--everyday-worker"]}
    hook = folder / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(_TRACE_WORKERS)
    package = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, HML_RECORD_TRACES=str(folder),
               PYTHONPATH=os.pathsep.join(filter(None, [str(hook), package, os.environ.get("PYTHONPATH")])))
    for name, command in runs.items():
        done = subprocess.run(command, env=env)
        print(f"{name}: exit status {done.returncode}", file=sys.stderr)
    seen = Seen()
    for log in sorted(folder.glob("worker-*.strace")):
        seen.read(log)
    record = seen.allow_list()
    _show_changes(record)
    if options.write:
        DATA.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {DATA}", file=sys.stderr)
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)


_TRACE_WORKERS = """
import os, uuid
if os.environ.get("HML_RECORD_TRACES"):
    import grader.sandbox.launch as _launch
    _original = _launch.launch

    def launch(*args, **kwargs):
        plan = _original(*args, **kwargs)
        if plan.kill_tree:  # Landlock: a worker without namespaces
            log = os.path.join(os.environ["HML_RECORD_TRACES"], f"worker-{uuid.uuid4().hex}.strace")
            plan.argv = ["strace", "-f", "-qq", "-X", "raw", "-s", "256", "-o", log, *plan.argv]
        return plan

    _launch.launch = launch
"""


def _everyday_worker() -> None:
    from grader.sandbox.launch import Sandbox
    from grader.sandbox.proxy import Worker, WorkerSpec

    module = Path(tempfile.mkdtemp(prefix="hml-everyday-"))
    (module / "everyday.py").write_text(EVERYDAY)
    for path in (module, module / "everyday.py"):
        path.chmod(0o755)
    worker = Worker(WorkerSpec(module_dir=module, module_name="everyday", sandbox=Sandbox.LANDLOCK))
    try:
        worker.wait_ready()
        print(worker.request({"op": "call", "name": "everyday", "args": [], "kwargs": {}}), file=sys.stderr)
    finally:
        worker.close()
        shutil.rmtree(module, ignore_errors=True)


_LINE = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
_END = re.compile(r"^(\d+) +\+\+\+ (?:exited|killed)")
_RESULT = re.compile(r"\) += (-?\d+|0x[0-9a-f]+)")


class Seen:
    """What confined processes did, read from ``strace -f -X raw`` logs."""

    def __init__(self):
        self.syscalls: collections.Counter = collections.Counter()
        self.ioctls: collections.Counter = collections.Counter()
        self.families: collections.Counter = collections.Counter()
        self.socketpairs: collections.Counter = collections.Counter()
        self.proc: collections.Counter = collections.Counter()

    def read(self, log: Path) -> None:
        confined: set[int] = set()
        pending: dict[int, list[tuple[str, str]]] = collections.defaultdict(list)  # lines of not-yet-known pids
        known: set[int] = set()  # pids whose parent (or own confinement) has been seen
        with log.open(errors="replace") as stream:
            for line in stream:
                end = _END.match(line)
                if end:
                    pid = int(end.group(1))
                    confined.discard(pid)
                    known.discard(pid)
                    pending.pop(pid, None)
                    continue
                match = _LINE.match(line)
                if not match:
                    continue
                pid, name, rest = int(match.group(1)), match.group(2) or match.group(3), match.group(4)
                if match.group(2):  # the end of a call counted when it began: only its result matters now
                    if name in ("clone", "clone3", "fork", "vfork") and (pid in known or _RESULT.search(rest)):
                        self._child(pid, rest, confined, known, pending)
                    elif name == "landlock_restrict_self" and rest.rstrip().endswith("= 0"):
                        confined.add(pid)
                        known.add(pid)
                        pending.pop(pid, None)
                    continue
                if name == "landlock_restrict_self" and rest.rstrip().endswith("= 0"):
                    confined.add(pid)
                    known.add(pid)
                    pending.pop(pid, None)
                    continue
                if pid not in known:
                    pending[pid].append((name, rest))
                    if name in ("clone", "clone3", "fork", "vfork") and _RESULT.search(rest):
                        self._child(pid, rest, confined, known, pending)
                    continue
                if pid in confined:
                    self._count(name, rest)
                if name in ("clone", "clone3", "fork", "vfork"):
                    self._child(pid, rest, confined, known, pending)

    def _child(self, pid, rest, confined, known, pending) -> None:
        result = _RESULT.search(rest)
        if not result or result.group(1).startswith("-"):
            return
        child = int(result.group(1), 0)
        known.add(child)
        if pid in confined:
            confined.add(child)
            for name, rest in pending.pop(child, []):
                self._count(name, rest)
        else:
            pending.pop(child, None)

    def _count(self, name: str, rest: str) -> None:
        self.syscalls[name] += 1
        args = [re.match(r"[^,)\s<]*", arg).group(0) for arg in rest.split(", ")]
        try:
            if name == "ioctl" and len(args) > 1:
                self.ioctls[int(args[1], 0) & 0xFFFFFFFF] += 1
            elif name == "socket":
                self.families[int(args[0], 0)] += 1
            elif name == "socketpair":
                self.socketpairs[int(args[0], 0)] += 1
        except ValueError:
            pass
        found = re.search(r'"(/proc/[^"]*)"', rest)
        if found and name in ("open", "openat", "openat2", "newfstatat", "stat", "statx", "readlink",
                              "readlinkat", "access", "faccessat", "faccessat2"):
            path = re.sub(r"^/proc/\d+", "/proc/<pid>", found.group(1))
            path = re.sub(r"/task/\d+", "/task/<tid>", path)
            self.proc[path] += 1

    def allow_list(self) -> dict:
        from grader.sandbox.seccomp import ARCHITECTURES, NEVER, SPECIAL

        names = set(self.syscalls) | BASELINE
        for group in SIBLINGS:
            if names & group:
                names |= group
        refused_seen = sorted(names & (set(NEVER) | set(SPECIAL)))
        names -= set(NEVER) | set(SPECIAL)
        numbers = {arch: _numbers(arch, sorted(names | set(NEVER) | set(SPECIAL))) for arch in ARCHITECTURES}
        return {
            "about": "System calls Landlock workers were seen to make (python -m grader.sandbox.record_syscalls); "
                     "allowed by grader/sandbox/seccomp.py, everything else refused.",
            "syscalls": sorted(names),
            "ioctls": sorted(f"{number:#x}" for number in self.ioctls),
            "socket_families_seen": sorted(self.families),
            "socketpair_families_seen": sorted(self.socketpairs),
            "refused_but_seen": refused_seen,
            "proc_seen": sorted(self.proc),
            "numbers": numbers,
        }


def _numbers(arch: str, names: list[str]) -> dict[str, int]:
    import pyseccomp

    found = {}
    for name in names:
        try:
            number = pyseccomp.resolve_syscall(getattr(pyseccomp.Arch, arch.upper()), name)
        except Exception:  # noqa: BLE001 - a name libseccomp does not know
            continue
        if number >= 0:  # negative: a pseudo number, the call does not exist on this architecture
            found[name] = number
    return found


def _show_changes(record: dict) -> None:
    old = json.loads(DATA.read_text()) if DATA.is_file() else {}
    for key in ("syscalls", "ioctls"):
        added = sorted(set(record[key]) - set(old.get(key, [])))
        removed = sorted(set(old.get(key, [])) - set(record[key]))
        print(f"{key}: {len(record[key])}; new: {added or 'none'}; no longer seen: {removed or 'none'}")
    for key in ("socket_families_seen", "socketpair_families_seen", "refused_but_seen", "proc_seen"):
        print(f"{key}: {record[key]}")


if __name__ == "__main__":
    main()
