# Writes past the disk limit into nameless files (unlinked, memfd), registers them with an io_uring instance
# as fixed files and closes their descriptors: the ring holds them, /proc/<pid>/fd shows only the ring. Holds
# them for ``hold`` seconds, then answers how many MB it wrote (or the errno io_uring failed with, negative).
import ctypes
import os
import time

from nameless import open_nameless

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.syscall.restype = ctypes.c_long
IO_URING_SETUP, IO_URING_REGISTER, IORING_REGISTER_FILES, IORING_REGISTER_FILES_UPDATE = 425, 427, 2, 6
_HELD = []


def fill(kind, megabytes, hold):
    params = (ctypes.c_uint32 * 30)()
    ring = _LIBC.syscall(IO_URING_SETUP, 8, params)
    if ring < 0:
        return -ctypes.get_errno()
    _HELD.append(ring)
    slots = megabytes // 8
    table = (ctypes.c_int * slots)(*([-1] * slots))  # a sparse table, filled one file at a time
    if _LIBC.syscall(IO_URING_REGISTER, ring, IORING_REGISTER_FILES, table, slots) < 0:
        return -ctypes.get_errno()
    written = 0
    chunk = b"\1" * (1 << 20)
    try:
        for slot in range(slots):
            fd = open_nameless(kind)
            for _ in range(8):
                os.write(fd, chunk)
            one = ctypes.c_int(fd)
            update = (ctypes.c_uint64 * 2)(slot, ctypes.addressof(one))  # offset, resv; then the fds' address
            if _LIBC.syscall(IO_URING_REGISTER, ring, IORING_REGISTER_FILES_UPDATE, update, 1) < 0:
                return -ctypes.get_errno()
            os.close(fd)  # only the ring holds the file now
            written += 8
    except OSError:
        pass
    time.sleep(hold)
    return written
