"""One zip entry judged before it is unpacked: where it would land, what it is, and reading it within a limit.

Intake refuses a whole submission for a bad entry; ``hml collect`` refuses only
that entry of an LMS download and places the rest. Both judge an entry here,
from its header alone, before a byte of it is read: a name that climbs out of
the folder (``..``, ``/etc/x``, ``C:x``), a link, a device or pipe. Reading is
then bounded by the caller's limit, never by the size the header claims: a
header may lie, and a small entry may inflate to gigabytes.
"""
from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import PurePosixPath


class EntryUnreadable(Exception):
    """The entry cannot be read as it claims (the message says why, without the entry's name)."""


def entry_parts(entry: zipfile.ZipInfo) -> tuple[str, ...]:
    """The entry's path, split; a backslash counts as a separator, as Windows zip tools write it."""
    return PurePosixPath(entry.filename.replace("\\", "/")).parts


def entry_problem(entry: zipfile.ZipInfo) -> str | None:
    """Why the entry cannot be unpacked as a plain file or folder inside the archive's folder; None if it can."""
    name = entry.filename
    parts = entry_parts(entry)
    if name.startswith(("/", "\\")) or ".." in parts:
        return "points outside the archive's folder"
    if parts and ":" in parts[0]:
        # Unpacked on Windows, "C:x" lands on drive C: and "evil:name.py" in a hidden stream of a file "evil".
        return "has a ':' in its name, which Windows reads as a drive or a file's data stream"
    mode = entry.external_attr >> 16  # Unix mode bits, as zip tools on Unix store them
    if stat.S_ISLNK(mode):
        return "is a symbolic link; links are not accepted"
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "is not a plain file"
    return None


def read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` bytes of the entry; ``EntryUnreadable`` when it holds more, or cannot be inflated."""
    try:
        with archive.open(entry) as stream:
            data = stream.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
        raise EntryUnreadable(f"cannot be unpacked ({exc})") from None
    if len(data) > limit:
        raise EntryUnreadable(f"is larger than {limit // 1024} KiB")
    return data
