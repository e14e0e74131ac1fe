"""Landlock: the sandbox where namespaces are denied, as in Docker-based platform graders.

Docker's default seccomp profile refuses ``unshare`` and the namespace flags
of ``clone``, so bubblewrap cannot start there; Landlock's system calls are
allowed. A worker confines itself with ``confine`` before it imports anything
of the learner's: it may then read only the paths it was given (the system,
the Python installation, the parts of the grader package it needs, its copy of
the module), write only its scratch directory, and, on kernels that have
them, neither bind nor connect TCP sockets (ABI 4) nor signal or reach
abstract Unix sockets outside its own domain (ABI 6); a learner's worker reads
only its own process and a few system files in ``/proc``. ``no_new_privs`` is
set, a session keyring of its own is joined, and a seccomp filter then allows
only the system calls workers were seen to use (``grader/sandbox/seccomp.py``).
When the worker runs as root it also drops every capability (its uid keeps
owning nothing it may reach).

Rules are made with ``py-landlock`` (a small, typed ctypes binding that
covers filesystem, network and scope rules and their ABI versions; the
older ``landlock`` package covers filesystem rules only).
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.sandbox import seccomp
from grader.sandbox.seccomp import AUDIT_ARCH, install_program

NET_ABI = 4
SCOPE_ABI = 6
# System files a Python process (and TensorFlow, kfp's task shells) reads outside /usr.
SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys",
               "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
               "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/mime.types", "/etc/ssl",
               "/etc/ca-certificates", "/etc/alternatives", "/etc/os-release", "/etc/python3",
               # fontconfig's settings: Matplotlib (in the grading environment) lists fonts with fc-list at
               # import, which otherwise prints "Cannot load default config file" into the learner's output.
               "/etc/fonts",
               "/dev/urandom", "/dev/random", "/dev/zero")
SYSTEM_WRITE = ("/dev/null",)
# /proc for a worker that runs the learner's module: its own process (the rule is made in the worker, where
# /proc/self is its own folder) and the system files Python and TensorFlow were seen to read
# (``proc_seen`` in syscalls.json); never another process's command line, environment or maps.
PROC_OWN = ("/proc/self", "/proc/thread-self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/loadavg")
# Workers that hold no learner module read all of /proc: the pipeline runner finds its tasks' processes there.
PROC_ALL = ("/proc",)
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


@dataclass
class Rules:
    read: list[str] = field(default_factory=list)   # files and folders to read (and run) from
    write: list[str] = field(default_factory=list)  # folders and files to write in
    list_only: list[str] = field(default_factory=list)  # folders whose names may be listed, nothing read

    def to_dict(self) -> dict:
        return asdict(self)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    try:
        from py_landlock import get_abi_version
    except ImportError:
        return 0
    try:
        return int(get_abi_version())
    except Exception:  # noqa: BLE001 - not compiled in, disabled at boot, or refused by a filter
        return 0


def protections(abi: int, identity: str) -> list[str]:
    """What a Landlock-confined worker is held to on this kernel, in words for results and the gradebook."""
    found = ["landlock filesystem rules", "no_new_privs", "rlimits"]
    found.append("system calls: an allow-list (seccomp): no sockets, SysV IPC or keyrings")
    found.append("own session keyring")
    found.append("/proc: the learner worker sees its own process and system files only")
    if abi >= NET_ABI:
        found.append("no TCP bind or connect")
    if abi >= SCOPE_ABI:
        found.append("signals and abstract sockets scoped")
    found.append(identity)
    return found


def confine(rules: Rules) -> None:
    """Confine this process (and everything it starts) to ``rules``; irreversible."""
    from py_landlock import AccessFs, Landlock

    read_file = AccessFs.READ_FILE | AccessFs.EXECUTE
    read_dir = read_file | AccessFs.READ_DIR
    write_file = read_file | AccessFs.WRITE_FILE | AccessFs.TRUNCATE
    write_dir = (read_dir | AccessFs.WRITE_FILE | AccessFs.TRUNCATE | AccessFs.MAKE_REG | AccessFs.MAKE_DIR
                 | AccessFs.MAKE_SYM | AccessFs.REMOVE_FILE | AccessFs.REMOVE_DIR | AccessFs.REFER
                 | AccessFs.MAKE_FIFO | AccessFs.MAKE_SOCK)
    ruleset = Landlock(strict=False)  # best effort: what the kernel lacks is filtered (and recorded by the caller)
    for paths, on_dir, on_file in ((rules.read, read_dir, read_file), (rules.write, write_dir, write_file),
                                   (rules.list_only, AccessFs.READ_DIR, AccessFs(0))):
        for path in paths:
            if os.path.lexists(path) and os.path.exists(path):
                ruleset.add_path_rule(path, access=on_dir if Path(path).is_dir() else on_file)
    ruleset.apply()


def drop_capabilities() -> None:
    """Give up every capability, now and across exec: root in name only."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP = 24
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two words of zeros
    if libc.syscall(_SYS_CAPSET[os.uname().machine], ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


# --------------------------------------------------------------------------- what Landlock does not cover

_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1


def own_session_keyring() -> None:
    """Join a new, empty session keyring: no key of the grader's session is within reach.

    Before confinement; the worker's filter then refuses every keyring call
    (``grader/sandbox/seccomp.py``), so neither the grader's user keyring nor
    this one can carry anything from one worker to the next. A kernel or
    container that refuses keyrings already keeps them out of reach.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    machine = os.uname().machine
    if machine in _SYS_KEYCTL:
        libc.syscall(_SYS_KEYCTL[machine], KEYCTL_JOIN_SESSION_KEYRING, None, 0, 0, 0)


def restrict_system_calls(owns_host_files: bool) -> None:
    """Only the system calls workers were seen to use (``grader/sandbox/seccomp.py``); needs ``no_new_privs``.

    ``owns_host_files``: the worker runs as an identity that owns files outside its scratch (root without
    capabilities, or the grader's own uid), so it may not change any file's mode, owner or times.
    """
    seccomp.install(owns_host_files)


_SYS_IDENTITY = {  # setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid, setgroups
    "x86_64": (105, 106, 113, 114, 117, 119, 122, 123, 116),
    "aarch64": (146, 144, 145, 143, 147, 149, 151, 152, 159),
}


def count_processes_as(uid: int) -> None:
    """Root without capabilities, whose processes count against ``uid``'s process limit.

    The kernel never applies RLIMIT_NPROC to processes whose real uid is root, so
    a fork bomb could fill the machine's process table. The real uid becomes
    ``uid`` (the limit then binds) while the effective one stays root (the files
    only root can reach stay readable); a seccomp filter keeps the learner's code
    from changing either back. Call before ``drop_capabilities``.
    """
    os.setresuid(uid, 0, 0)
    machine = os.uname().machine
    LD, JEQ, RET = 0x20, 0x15, 0x06
    errno_eperm, allow, kill = 0x00050000 | 1, 0x7FFF0000, 0x80000000
    denied = _SYS_IDENTITY[machine]
    program = [(LD, 0, 0, 4), (JEQ, 1, 0, AUDIT_ARCH[machine]), (RET, 0, 0, kill), (LD, 0, 0, 0),
               *[(JEQ, len(denied) - i, 0, nr) for i, nr in enumerate(denied)],
               (RET, 0, 0, allow), (RET, 0, 0, errno_eperm)]
    install_program(program)
