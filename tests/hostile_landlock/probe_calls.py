# Tries system calls and socket families a Landlock worker must be refused; returns {call: errno} (0: it worked).
# It also tries to leave something behind (a queue, a segment, a semaphore set, a key) for the trusted test to
# look for on the host afterwards.
import ctypes
import os
import socket

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NUMBERS = {  # x86_64, aarch64
    "add_key": (248, 217), "keyctl": (250, 219), "ptrace": (101, 117), "bpf": (321, 280),
    "io_uring_setup": (425, 425), "userfaultfd": (323, 282), "unshare": (272, 97), "perf_event_open": (298, 241),
}
ARCH = 0 if os.uname().machine == "x86_64" else 1


def _errno(result) -> int:
    return ctypes.get_errno() if result == -1 else 0


def _syscall(name, *args) -> int:
    return _errno(libc.syscall(NUMBERS[name][ARCH], *args))


def probe(key, description):
    found = {}
    found["msgget"] = _errno(libc.msgget(key, 0o1666))
    found["shmget"] = _errno(libc.shmget(key, 64 << 20, 0o1666))
    found["semget"] = _errno(libc.semget(key, 1, 0o1666))
    payload = b"hidden"
    for keyring, name in ((-4, "user"), (-3, "session")):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING
        found[f"add_key {name}"] = _syscall("add_key", b"user", description.encode(), payload, len(payload),
                                            keyring)
    found["keyctl"] = _syscall("keyctl", 0, -4, 0, 0, 0)  # KEYCTL_GET_KEYRING_ID of the user keyring
    found["ptrace"] = _syscall("ptrace", 16, 1, 0, 0)  # PTRACE_ATTACH to init
    found["bpf"] = _syscall("bpf", 0, 0, 0)
    found["io_uring_setup"] = _syscall("io_uring_setup", 1, ctypes.create_string_buffer(120))
    found["userfaultfd"] = _syscall("userfaultfd", 0)
    found["unshare CLONE_NEWUSER"] = _syscall("unshare", 0x10000000)
    found["perf_event_open"] = _syscall("perf_event_open", ctypes.create_string_buffer(128), 0, -1, -1, 0)
    families = {"AF_VSOCK": 40, "AF_PACKET": 17, "AF_NETLINK": 16, "AF_INET": 2, "AF_INET6": 10, "AF_UNIX": 1}
    for name, family in families.items():
        kind = socket.SOCK_DGRAM if name != "AF_PACKET" else socket.SOCK_RAW
        try:
            socket.socket(family, kind).close()
            found[f"socket {name}"] = 0
        except OSError as exc:
            found[f"socket {name}"] = exc.errno or -1
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        found["socket raw"] = 0
    except OSError as exc:
        found["socket raw"] = exc.errno or -1
    return found


def pair_works():
    a, b = socket.socketpair()
    a.sendall(b"x")
    ok = b.recv(1) == b"x"
    a.close(), b.close()
    return ok
