"""An LMS download opened for reading, zip or unpacked folder: its plain files, and what was refused on sight.

Everything in a download is learner-made, names included, so it is judged
before it is read. Each entry that climbs out of the folder, is a link, a
device or a pipe, inflates like a zip bomb or lies past the bounds is refused
on its own, with a reason; the others are still read. Intake judges zip
entries the same way (``grader.intake.zip_entries``), so a download and a
submission meet the same rules.
"""
from __future__ import annotations

import os
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from grader.errors import GraderError
from grader.intake.special_files import NotRegular, read_regular, special_kind
from grader.intake.zip_entries import EntryUnreadable, entry_parts, entry_problem, read_entry
from grader.platforms.exports.model import Member, Refusal

MAX_MEMBERS = 20_000                 # a class of a few thousand, each handing in a few files
MAX_EXPORT_BYTES = 4 * 1024 ** 3     # what all entries together may unpack to
MAX_RATIO = 100                      # deflate reaches ~1000:1 only on crafted data; code and notebooks stay far below
RATIO_FLOOR = 1024 * 1024            # small entries may compress well without harm
# What zip tools and desktops add beside the files: never a learner's hand-in, never worth a line of the report.
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class ExportError(GraderError):
    """The download as a whole cannot be read (the message names the file)."""


class Unreadable(Exception):
    """One entry cannot be read (the message says why, without the entry's name)."""


class Export:
    """The plain files of a download (``members``) and the entries refused while listing them (``refused``)."""

    def __init__(self, source: Path):
        self.source = source
        self.members: list[Member] = []
        self.refused: list[Refusal] = []

    def read(self, member: Member, limit: int) -> bytes:
        raise NotImplementedError


def is_junk(parts: tuple[str, ...]) -> bool:
    return any(part in JUNK or part.startswith("._") for part in parts)


@contextmanager
def open_export(path: Path) -> Iterator[Export]:
    """The download at ``path`` (a .zip file or a folder), listed and judged; closed on leaving."""
    path = Path(path)
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder")
    path = path.resolve()  # the instructor's own argument: a link to a download is theirs to make
    kind = special_kind(path)
    if kind is not None:
        raise ExportError(f"{path}: is {kind}, not a download")
    if path.is_dir():
        yield _FolderExport(path)
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(f"{path}: not a readable zip file ({exc})") from None
    with archive:
        yield _ZipExport(path, archive)


class _Bounds:
    """The running count and declared size of what was listed, against the export's limits."""

    def __init__(self, export: Export):
        self.export = export
        self.members = 0
        self.bytes = 0
        self.over = 0  # entries left unread once the member limit was reached

    def admit(self, name: str, size: int) -> bool:
        if self.members >= MAX_MEMBERS:
            self.over += 1
            return False
        if self.bytes + size > MAX_EXPORT_BYTES:
            self.export.refused.append(Refusal(name, f"the download unpacks to more than "
                                                     f"{MAX_EXPORT_BYTES // 1024 ** 2} MiB by here; not read"))
            return False
        self.members += 1
        self.bytes += size
        return True

    def close(self) -> None:
        if self.over:
            self.export.refused.append(Refusal(self.export.source.name, f"{self.over} more entries beyond the limit "
                                                                        f"of {MAX_MEMBERS}; not read"))


class _ZipExport(Export):
    def __init__(self, source: Path, archive: zipfile.ZipFile):
        super().__init__(source)
        self.archive = archive
        self.entries: dict[str, zipfile.ZipInfo] = {}
        bounds = _Bounds(self)
        twice: set[str] = set()
        for entry in archive.infolist():
            parts = entry_parts(entry)
            if entry.is_dir() or not parts or is_junk(parts):
                continue
            problem = entry_problem(entry) or _bomb(entry)
            if problem:
                self.refused.append(Refusal(entry.filename, problem))
                continue
            name = "/".join(parts)
            if name in self.entries:
                twice.add(name)  # two entries, one name: which one a tool unpacks is anyone's guess
                continue
            if bounds.admit(name, entry.file_size):
                self.entries[name] = entry
        bounds.close()
        for name in sorted(twice):
            self.refused.append(Refusal(name, "appears twice in the archive; neither is used"))
            del self.entries[name]
        self.members = [Member(name, entry.file_size) for name, entry in self.entries.items()]

    def read(self, member: Member, limit: int) -> bytes:
        try:
            return read_entry(self.archive, self.entries[member.name], limit)
        except EntryUnreadable as exc:
            raise Unreadable(str(exc)) from None


def _bomb(entry: zipfile.ZipInfo) -> str | None:
    """Why the entry's declared sizes look like a zip bomb; None when they do not."""
    if entry.file_size <= RATIO_FLOOR:
        return None
    if entry.compress_size == 0 or entry.file_size / entry.compress_size > MAX_RATIO:
        ratio = entry.file_size // max(entry.compress_size, 1)
        return f"inflates {ratio}:1 to {entry.file_size // 1024 ** 2} MiB; a zip bomb is not unpacked"
    return None


class _FolderExport(Export):
    def __init__(self, source: Path):
        super().__init__(source)
        bounds = _Bounds(self)
        for directory, dirnames, filenames in os.walk(source, followlinks=False):
            here = Path(directory)
            dirnames[:] = sorted(d for d in dirnames if self._plain(here / d, d))
            for name in sorted(filenames):
                path = here / name
                relative = path.relative_to(source).as_posix()
                if not self._plain(path, name):
                    continue
                size = path.lstat().st_size
                if bounds.admit(relative, size):
                    self.members.append(Member(relative, size))
        bounds.close()

    def _plain(self, path: Path, name: str) -> bool:
        """Whether ``path`` is a plain file or folder worth listing; a refusal is recorded for a special one."""
        if name in JUNK or name.startswith("._"):
            return False
        kind = special_kind(path)
        if kind is not None:
            self.refused.append(Refusal(path.relative_to(self.source).as_posix(), f"is {kind}; not followed"))
            return False
        return True

    def read(self, member: Member, limit: int) -> bytes:
        try:
            return read_regular(self.source / member.name, limit)
        except NotRegular:
            raise Unreadable(f"is larger than {limit // 1024} KiB, or changed while it was read") from None
        except OSError as exc:
            raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
