# Writes past the disk limit into files no folder shows: unlinked while open, O_TMPFILE, or memfd. Holds them
# (no answer) until the worker is stopped; returns how many MB it wrote if the disk filled up first, or if
# nothing stopped it.
import os
import time

from nameless import open_nameless

_HELD = []


def fill(kind, megabytes):
    written = 0
    try:
        for _ in range(megabytes // 8):
            fd = open_nameless(kind)
            _HELD.append(fd)
            os.write(fd, b"\1" * (8 << 20))
            written += 8
    except OSError:  # the disk is full: stopped by its size
        return written
    time.sleep(45)
    return written
