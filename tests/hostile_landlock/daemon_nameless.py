# Gives up being a subreaper, then starts a daemon (double fork) that writes past the disk limit into files no
# folder shows (unlinked, O_TMPFILE, memfd) and holds them open: an orphan goes to the next subreaper up, the
# trusted process, so it is no descendant of the worker. Answers after ``hold`` seconds with how many MB the
# daemon says it wrote.
import ctypes
import os
import time

from nameless import open_nameless

PR_SET_CHILD_SUBREAPER = 36


def _daemon(kind, megabytes, report):
    held, written = [], 0
    chunk = b"\1" * (1 << 20)
    try:
        for _ in range(megabytes // 8):
            fd = open_nameless(kind)
            held.append(fd)
            for _ in range(8):
                os.write(fd, chunk)
            written += 8
    except OSError:
        pass
    os.write(report, str(written).encode())
    os.close(report)
    time.sleep(120)


def fill(kind, megabytes, hold):
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(read)
            if os.fork() == 0:
                _daemon(kind, megabytes, write)
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    written = int(os.read(read, 64) or b"0")
    time.sleep(hold)
    return written
