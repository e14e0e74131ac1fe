# A thread of the worker unshares its descriptor table (unshare(CLONE_FILES): no namespace), then writes past
# the disk limit into nameless files (unlinked, O_TMPFILE, memfd) and keeps them open: /proc/<pid>/fd shows
# the thread group leader's table only. Answers after ``hold`` seconds with how many MB the thread wrote (or
# the errno unshare failed with, negative).
import ctypes
import os
import threading
import time

from nameless import open_nameless

CLONE_FILES = 0x400
_LIBC = ctypes.CDLL(None, use_errno=True)


def _hold(kind, megabytes, done, result):
    if _LIBC.unshare(CLONE_FILES) != 0:
        result.append(-ctypes.get_errno())
        done.set()
        return
    written, chunk = 0, b"\1" * (1 << 20)
    try:
        for _ in range(megabytes // 8):
            fd = open_nameless(kind)
            for _ in range(8):
                os.write(fd, chunk)
            written += 8
    except OSError:
        pass
    result.append(written)
    done.set()
    time.sleep(3600)  # the thread keeps its own table, and the files in it, while the worker lives


def fill(kind, megabytes, hold):
    done, result = threading.Event(), []
    threading.Thread(target=_hold, args=(kind, megabytes, done, result), daemon=True).start()
    done.wait()
    time.sleep(hold)
    return result[0]
