# Appended to a correct placement module: every call writes what it was given into the modes and times of
# files outside the sandbox (Landlock does not confine chmod or utime), where the next submission could read
# them back with stat; it also tries a setuid bit. The trusted test compares the files before and after.
import os as _os

_STORE = 0  # set by the test: a folder of files the grader's identity owns, outside every sandbox rule
_place = place


def _mark(text):
    for index in range(8):  # named, not listed: chmod and utime need no right to read the folder
        path = _os.path.join(str(_STORE), f"f{index}")
        stamp = (sum(map(ord, text)) + index) * 1_000_000_000
        for attempt in (lambda: _os.chmod(path, 0o4777), lambda: _os.utime(path, ns=(stamp, stamp))):
            try:
                attempt()
            except OSError:
                pass
        try:  # through a descriptor opened for reading, which Landlock may allow
            with open(path, "rb") as handle:
                _os.fchmod(handle.fileno(), 0o6777)
        except OSError:
            pass


def place(*args, **kwargs):
    _mark(repr((args, kwargs)))
    return _place(*args, **kwargs)
