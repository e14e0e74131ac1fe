# Makes SysV shared memory segments that would outlive the worker (three of 64 MiB), touched so they hold memory.
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p


def keep(key, count=3, size=64 << 20):
    made = []
    for i in range(count):
        segment = libc.shmget(key + i, size, 0o1666)
        if segment < 0:
            made.append(-ctypes.get_errno())
            continue
        address = libc.shmat(segment, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memset(address, 1, size)
        made.append(segment)
    return made
