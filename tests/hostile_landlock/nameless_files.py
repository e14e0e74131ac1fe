# Writes past the disk limit into files no folder shows: unlinked while open, O_TMPFILE, or memfd. Holds them
# (no answer) until the worker is stopped; returns how many MB it wrote if the disk filled up first, or if
# nothing stopped it.
import os
import tempfile
import time

_HELD = []


def _open(kind):
    if kind == "memfd":
        return os.memfd_create("cache")
    if kind == "tmpfile":
        return os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
    fd, path = tempfile.mkstemp(dir=".")
    os.unlink(path)
    return fd


def fill(kind, megabytes):
    written = 0
    try:
        for _ in range(megabytes // 8):
            fd = _open(kind)
            _HELD.append(fd)
            os.write(fd, b"\1" * (8 << 20))
            written += 8
    except OSError:  # the disk is full: stopped by its size
        return written
    time.sleep(45)
    return written
