# Writes past the disk limit into nameless files (unlinked, O_TMPFILE, memfd), then starts a raw thread with
# clone(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD) but without CLONE_FILES (no namespace flag): the thread gets a
# copy of the descriptor table, and sits in pause(). The worker then closes its own descriptors: only the
# thread's copy holds the files, and /proc/<pid>/fd shows the thread group leader's table only. Answers after
# ``hold`` seconds with how many MB it wrote (or the errno clone failed with, negative).
import ctypes
import os
import time

from nameless import open_nameless

CLONE_VM, CLONE_SIGHAND, CLONE_THREAD = 0x100, 0x800, 0x10000
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_STACKS = []


def fill(kind, megabytes, hold):
    # Each file is handed to a thread of its own as soon as it is written: at most 8 MB is ever in the
    # worker's own table.
    written, chunk = 0, b"\1" * (1 << 20)
    try:
        for _ in range(megabytes // 8):
            fd = open_nameless(kind)
            for _ in range(8):
                os.write(fd, chunk)
            stack = ctypes.create_string_buffer(64 * 1024)
            _STACKS.append(stack)
            top = (ctypes.addressof(stack) + len(stack) - 64) & ~0xF
            pause = ctypes.cast(_LIBC.pause, ctypes.c_void_p).value
            if _LIBC.clone(pause, top, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD, None) < 0:
                return -ctypes.get_errno()
            os.close(fd)  # only the thread's copy of the table holds the file now
            written += 8
    except OSError:  # the disk is full: stopped by its size
        return written
    time.sleep(hold)
    return written
