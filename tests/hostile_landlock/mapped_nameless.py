# Writes past the disk limit into nameless files (unlinked, O_TMPFILE, memfd), maps one page of each and
# closes its descriptor: the mapping alone keeps the whole file, and /proc/<pid>/fd no longer shows it. Holds
# them for ``hold`` seconds, then answers how many MB it wrote.
import ctypes
import mmap
import os
import time

from nameless import open_nameless

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_HELD = []


def fill(kind, megabytes, hold):
    written = 0
    chunk = b"\1" * (1 << 20)
    try:
        for _ in range(megabytes // 8):
            fd = open_nameless(kind)
            for _ in range(8):
                os.write(fd, chunk)
            address = _LIBC.mmap(None, mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
            if address in (None, ctypes.c_void_p(-1).value):
                raise OSError(ctypes.get_errno(), "mmap")
            _HELD.append(address)
            os.close(fd)  # only the one-page mapping holds the file now
            written += 8
    except OSError:  # the disk is full: stopped by its size
        return written
    time.sleep(hold)
    return written
