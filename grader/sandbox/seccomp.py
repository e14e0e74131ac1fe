"""The seccomp filter of a Landlock worker: an allow-list of the system calls workers were seen to make.

Landlock confines paths, TCP and signals; everything else the kernel offers a
process stays open unless a seccomp filter closes it: SysV message queues,
shared memory and semaphores and the kernel's keyrings (shared by every
process of a uid and outliving them: one submission could leave hidden inputs
for the next), sockets of any family, ptrace, bpf, io_uring, userfaultfd,
namespaces, perf, mounts. So a worker may make only the system calls in
``syscalls.json``, recorded from what the workers really do while every
exercise is graded (``grader/sandbox/record_syscalls.py`` says how, and how to
record it again); every other call is refused with ``ENOSYS`` (libc and Python
then fall back to an older call, as they do on older kernels), and the calls
in ``NEVER`` with ``EPERM``, whatever a recording saw. A few calls are judged by
their arguments (``SPECIAL``):

- ``socket``: refused for every family (``EACCES``); the worker talks to the
  trusted side over pipes it inherited, and glibc falls back to files when
  nscd cannot be reached;
- ``socketpair``: Unix sockets only (Python's own machinery);
- ``clone``: without namespace flags; ``clone3`` (whose flags sit in memory a
  filter cannot read) says ``ENOSYS``, so glibc falls back to ``clone``;
- ``ioctl``: only the requests seen (terminal queries, non-blocking and
  close-on-exec flags), ``ENOTTY`` for the rest.

The program is classic BPF built here, from numbers stored for each
architecture: the worker needs no libseccomp. The filter is installed once per
worker, after Landlock; the kernel caches the verdict of calls allowed whatever
their arguments, so they cost nothing more.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import json
import os
from pathlib import Path

DATA = Path(__file__).with_name("syscalls.json")
ARCHITECTURES = ("x86_64", "aarch64")
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# Refused whatever a recording saw: what one worker could leave for another or use to leave its sandbox.
NEVER = (
    # SysV IPC (the x86 ``ipc`` multiplexer does not exist on x86_64 or aarch64) and keyrings
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl",
    "shmget", "shmat", "shmdt", "shmctl", "ipc", "add_key", "request_key", "keyctl",
    # other processes, the kernel, namespaces and mounts
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise",
    "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "perf_event_open",
    "unshare", "setns", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr", "name_to_handle_at", "open_by_handle_at", "fanotify_init",
    "quotactl", "quotactl_fd", "swapon", "swapoff", "reboot", "syslog", "acct", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm",
    "vhangup", "uselib", "lookup_dcookie",
    # extended attributes Landlock does not confine, on files the worker's uid may own outside its scratch
    # (shutil.copystat takes EPERM as "not supported")
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "setxattrat", "removexattrat",
)
# Changing a file's mode, owner or times: Landlock does not confine them, so a worker whose identity owns files
# outside its scratch (root without capabilities owns the system's; a worker sharing the grader's uid owns the
# course) could store data in them for the next submission, or set a setuid bit. Refused for such a worker.
METADATA = ("chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
            "utime", "utimes", "utimensat", "futimesat")
# Judged by their arguments, below. ``prlimit64`` on another process (whose real uid matches) would change the
# limits of the trusted side or of another learner's worker: only the worker's own (pid 0) are its to change.
SPECIAL = ("socket", "socketpair", "clone", "clone3", "ioctl")
OWN_PROCESS_ONLY = ("prlimit64",)
AF_UNIX = 1
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ/JGE/JSET|K, BPF_RET|K
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24  # offsets in struct seccomp_data (low words of the arguments)
_ALLOW = 0x7FFF0000


def _refuse(code: int) -> int:
    return 0x00050000 | code  # SECCOMP_RET_ERRNO


@functools.lru_cache(maxsize=1)
def allow_list() -> dict:
    """The recorded allow-list (``syscalls.json``): system call names, ioctl requests, numbers per architecture."""
    return json.loads(DATA.read_text())


def program(machine: str | None = None, *, owns_host_files: bool = False) -> list[tuple[int, int, int, int]]:
    """The filter as rows of classic BPF (code, jt, jf, k) for ``machine`` (default: this one).

    ``owns_host_files``: the worker's identity owns files outside its scratch, so ``METADATA`` is refused.
    """
    machine = machine or os.uname().machine
    if machine not in AUDIT_ARCH:
        raise OSError(errno.ENOSYS, f"no system call numbers for {machine}")
    data = allow_list()
    numbers: dict[str, int] = data["numbers"][machine]
    clash = set(data["syscalls"]) & (set(NEVER) | set(SPECIAL))
    if clash:
        raise ValueError(f"{DATA.name} allows what must be refused or judged by arguments: {sorted(clash)}")
    rows: list[tuple[int, int, int, int]] = [(_LD, 0, 0, _ARCH), (_JEQ, 1, 0, AUDIT_ARCH[machine]),
                                             (_RET, 0, 0, _refuse(errno.ENOSYS)), (_LD, 0, 0, _NR)]
    if machine == "x86_64":  # x32 numbers: another ABI, nothing of it allowed
        rows += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, _refuse(errno.ENOSYS))]

    def section(name: str, body: list[tuple[int, int, int, int]]) -> None:
        """``if nr == name: body`` (body ends in a return, so nr is still loaded when it is skipped)."""
        if name in numbers:
            rows.append((_JEQ, 0, len(body), numbers[name]))
            rows.extend(body)

    section("socket", [(_RET, 0, 0, _refuse(errno.EACCES))])
    section("socketpair", [(_LD, 0, 0, _ARG0), (_JEQ, 0, 1, AF_UNIX), (_RET, 0, 0, _ALLOW),
                           (_RET, 0, 0, _refuse(errno.EAFNOSUPPORT))])
    section("clone", [(_LD, 0, 0, _ARG0), (_JSET, 0, 1, NAMESPACE_FLAGS), (_RET, 0, 0, _refuse(errno.EPERM)),
                      (_RET, 0, 0, _ALLOW)])
    section("clone3", [(_RET, 0, 0, _refuse(errno.ENOSYS))])
    ioctls = [int(request, 16) for request in data["ioctls"]]
    body = [(_LD, 0, 0, _ARG1)]  # the request is an unsigned int: the kernel ignores the high word
    for request in ioctls:
        body += [(_JEQ, 0, 1, request), (_RET, 0, 0, _ALLOW)]
    section("ioctl", body + [(_RET, 0, 0, _refuse(errno.ENOTTY))])
    for name in OWN_PROCESS_ONLY:  # the pid is an int: the kernel reads the low word only
        section(name, [(_LD, 0, 0, _ARG0), (_JEQ, 0, 1, 0), (_RET, 0, 0, _ALLOW), (_RET, 0, 0, _refuse(errno.EPERM))])
    for name in NEVER + (METADATA if owns_host_files else ()):
        section(name, [(_RET, 0, 0, _refuse(errno.EPERM))])
    # A call sectioned above returns there: the recorded list cannot reopen it.
    for name in data["syscalls"]:
        section(name, [(_RET, 0, 0, _ALLOW)])
    rows.append((_RET, 0, 0, _refuse(errno.ENOSYS)))
    if len(rows) > 4096:  # BPF_MAXINSNS
        raise ValueError(f"the filter has {len(rows)} instructions, more than the kernel takes")
    return rows


def install(owns_host_files: bool) -> None:
    """Confine this process (and everything it starts) to the allow-list; irreversible. Needs ``no_new_privs``."""
    install_program(program(owns_host_files=owns_host_files))


def install_program(rows: list[tuple[int, int, int, int]]) -> None:
    """Load a classic BPF seccomp program (rows of code, jt, jf, k); needs no capability."""

    class Filter(ctypes.Structure):  # the kernel's struct sock_filter
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(rows))(*[Filter(*row) for row in rows])
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(Program(len(rows), filters)), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "installing a seccomp filter failed")
