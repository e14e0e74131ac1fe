"""Files that are not plain files: told apart from ``lstat``, before anything opens them.

Opening a named pipe blocks until someone writes to it, a device can be
endless, and a link leads elsewhere. Learner-made trees (submission folders,
a task's outputs) are therefore classified from ``lstat`` first, and plain
files are read through ``read_regular``, which refuses anything else even if
the path changed in between.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class NotRegular(OSError):
    """The path is not a plain file (or grew past the limit while being read)."""


def special_kind(path: Path) -> str | None:
    """"a named pipe (FIFO)" and the like when ``path`` is neither a plain file nor a folder; else None."""
    mode = os.lstat(path).st_mode
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the plain file ``path``, at most ``limit`` of them; ``NotRegular`` for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"{Path(path).name} is not a plain file")
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise NotRegular(f"{Path(path).name} is larger than {limit} bytes")
    return data
