# Shared by the hostile modules that hold files no folder shows (copied beside them into the worker's module
# folder by tests/test_security_landlock.py): opens one nameless file of ``kind``.
import os
import tempfile


def open_nameless(kind):
    """A descriptor of a file no folder shows: a memfd, an O_TMPFILE file, or a file unlinked once opened."""
    if kind == "memfd":
        return os.memfd_create("cache")
    if kind == "tmpfile":
        return os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
    fd, path = tempfile.mkstemp(dir=".")
    os.unlink(path)
    return fd
