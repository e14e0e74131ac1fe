"""Submissions in, prepared submissions out.

A module file, a notebook, a directory or a zip becomes a folder whose
``module/`` folder holds exactly the exercise's module file: nothing else a
learner sent (a ``conftest.py``, a ``sitecustomize.py``, a ``.pth`` file,
links) reaches the worker. Anything suspicious is refused with a message,
which becomes the submission's result; so is a module that imports at its
top a module the grading environment lacks (``grader.intake.imports``).
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath

from grader.errors import GraderError
from grader.intake.folders import MAX_DEPTH, too_deep, walk
from grader.intake.imports import refusal, unavailable_imports
from grader.intake.notebooks import ConvertedNotebook, NotebookError, notebook_to_module
from grader.intake.special_files import NotRegular, read_regular, special_kind
from grader.intake.zip_entries import EntryUnreadable, entry_parts, entry_problem, read_entry

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 500


class SubmissionRefused(GraderError):
    """The submission cannot be graded as sent; the message says why and what to do."""


class SubmissionForm(Enum):
    """What the learner sent."""

    MODULE = "module"
    NOTEBOOK = "notebook"
    DIRECTORY = "directory"
    ZIP = "zip"


@dataclass
class PreparedSubmission:
    """A submission normalised for grading: the module file the workers import, in a folder of its own."""

    root: Path
    module_file: Path
    form: SubmissionForm
    cells: list[tuple[int, int]] = field(default_factory=list)  # for notebooks: see ConvertedNotebook

    @property
    def module_dir(self) -> Path:
        return self.module_file.parent

    def locate(self, line: int) -> str:
        return ConvertedNotebook("", self.cells).locate(line) if self.cells else f"line {line}"

    def save(self) -> None:
        data = asdict(self) | {"root": str(self.root), "module_file": str(self.module_file), "form": self.form.value}
        (self.root / "submission.json").write_text(json.dumps(data))

    @classmethod
    def load(cls, root: Path) -> "PreparedSubmission":
        data = json.loads((root / "submission.json").read_text())
        return cls(Path(data["root"]), Path(data["module_file"]), SubmissionForm(data["form"]),
                   [tuple(c) for c in data.get("cells", [])])


def prepare(submission: Path, module_filename: str, dest: Path) -> PreparedSubmission:
    """Normalise ``submission`` into ``dest``; raise ``SubmissionRefused`` with the reason."""
    dest.mkdir(parents=True, exist_ok=True)
    module_dir = dest / "module"
    module_dir.mkdir(exist_ok=True)
    target = module_dir / module_filename
    _refuse_special(submission)
    if submission.is_dir():
        prepared = _from_files(_directory_files(submission), target, SubmissionForm.DIRECTORY)
    elif submission.suffix == ".zip":
        prepared = _from_files(_zip_files(submission), target, SubmissionForm.ZIP)
    elif submission.suffix == ".ipynb":
        prepared = _from_notebook(_read_limited(submission), target, SubmissionForm.NOTEBOOK)
    elif submission.suffix == ".py":
        _write_module(target, _read_limited(submission))
        prepared = PreparedSubmission(dest, target, SubmissionForm.MODULE)
    else:
        raise SubmissionRefused(f"{submission.name}: send a .py module, an .ipynb notebook, "
                                f"a directory or a .zip holding {module_filename}")
    prepared.root = dest
    _refuse_unavailable_imports(prepared)
    prepared.save()
    return prepared


def _refuse_unavailable_imports(prepared: PreparedSubmission) -> None:
    """A module that imports at its top what the grading environment lacks cannot be imported there:
    refused, with the module named, rather than graded 0 by every test failing on the same import."""
    source = prepared.module_file.read_text(encoding="utf-8", errors="replace")
    found = [i for i in unavailable_imports(source, prepared.module_file.stem) if i.certain]
    if found:
        title, detail = refusal(found, prepared.locate)
        raise SubmissionRefused(f"{title}. {detail}")


def submission_files(submission: Path) -> dict[str, bytes]:
    """What of ``submission`` intake would read, as bytes: the file itself, or a folder's .py and .ipynb files.

    For sending a submission elsewhere (a cluster's worker), where intake runs again;
    ``SubmissionRefused`` for what intake refuses before reading (links, special files, size).
    """
    _refuse_special(submission)
    if submission.is_dir():
        return _directory_files(submission)
    if submission.suffix == ".zip" and submission.lstat().st_size > MAX_TOTAL_BYTES:
        raise SubmissionRefused(f"{submission.name} is larger than {MAX_TOTAL_BYTES // 1024 // 1024} MiB")
    return {submission.name: _read_limited(submission) if submission.suffix != ".zip"
            else read_regular(submission, MAX_TOTAL_BYTES)}


def _refuse_special(submission: Path) -> None:
    """A submission that is missing, a link, a pipe, a socket or a device, refused before anything opens it."""
    if not os.path.lexists(submission):
        raise SubmissionRefused(f"{submission} does not exist")
    kind = special_kind(submission)
    if kind is not None:
        raise SubmissionRefused(f"{submission.name} is {kind}; send the file itself")


def _read_limited(path: Path) -> bytes:
    size = path.lstat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionRefused(f"{path.name} is {size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB")
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except NotRegular:
        raise SubmissionRefused(f"{path.name} changed while it was read, or is not a plain file") from None


def _write_module(target: Path, data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionRefused(f"{target.name} is not UTF-8 text") from None
    target.write_bytes(data)


def _from_notebook(data: bytes, target: Path, form: SubmissionForm) -> PreparedSubmission:
    try:
        converted = notebook_to_module(data.decode("utf-8", "replace"))
    except NotebookError as exc:
        raise SubmissionRefused(str(exc)) from None
    target.write_text(converted.source)
    return PreparedSubmission(target.parent.parent, target, form, converted.cells)


def _from_files(files: dict[str, bytes], target: Path, form: SubmissionForm) -> PreparedSubmission:
    """Pick the module file (or, failing that, a single notebook) among a folder's files."""
    name = target.name
    stem = Path(name).stem
    for wanted, convert in ((name, False), (f"{stem}.ipynb", True)):
        matches = sorted((p for p in files if PurePosixPath(p).name == wanted), key=lambda p: (p.count("/"), p))
        if matches:
            data = files[matches[0]]
            if convert:
                return _from_notebook(data, target, form)
            _write_module(target, data)
            return PreparedSubmission(target.parent.parent, target, form)
    notebooks = [p for p in files if p.endswith(".ipynb") and "/." not in f"/{p}"]
    if len(notebooks) == 1:
        return _from_notebook(files[notebooks[0]], target, form)
    raise SubmissionRefused(f"no {name} found in the submission (it holds: {', '.join(sorted(files)[:10]) or 'nothing'})")


def _directory_files(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    deep = too_deep(root)
    if deep is not None:
        raise SubmissionRefused(f"its folders are nested more than {MAX_DEPTH} deep ({str(deep)[:200]}...); "
                                f"send the module, not a whole disk")
    for directory, dirnames, filenames, _ in walk(root):
        for name in dirnames + filenames:
            path = Path(directory) / name
            kind = special_kind(path)
            if kind is not None:
                raise SubmissionRefused(f"{path.relative_to(root)} is {kind}; send only plain files and folders")
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".git", ".ipynb_checkpoints")]
        for name in filenames:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if len(files) >= MAX_FILES:
                raise SubmissionRefused(f"the submission holds more than {MAX_FILES} files")
            if not relative.endswith((".py", ".ipynb")):
                continue
            data = _read_limited(path)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise SubmissionRefused(f"the submission is larger than {MAX_TOTAL_BYTES // 1024 // 1024} MiB")
            files[relative] = data
    return files


def _zip_files(path: Path) -> dict[str, bytes]:
    if path.stat().st_size > MAX_TOTAL_BYTES:
        raise SubmissionRefused(f"{path.name} is larger than {MAX_TOTAL_BYTES // 1024 // 1024} MiB")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionRefused(f"{path.name} is not a readable zip archive ({exc})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_FILES:
            raise SubmissionRefused(f"{path.name} holds {len(entries)} entries; the limit is {MAX_FILES}")
        total = sum(e.file_size for e in entries)
        if total > MAX_TOTAL_BYTES:
            raise SubmissionRefused(f"{path.name} unpacks to {total // 1024 // 1024} MiB; "
                                    f"the limit is {MAX_TOTAL_BYTES // 1024 // 1024} MiB")
        files: dict[str, bytes] = {}
        for entry in entries:
            name = entry.filename
            parts = entry_parts(entry)
            problem = entry_problem(entry)
            if problem:
                raise SubmissionRefused(f"{path.name}: the entry {name!r} {problem}")
            if entry.is_dir() or not name.endswith((".py", ".ipynb")) or "__MACOSX" in parts:
                continue
            if entry.file_size > MAX_FILE_BYTES:
                raise SubmissionRefused(f"{path.name}: {name!r} is larger than {MAX_FILE_BYTES // 1024} KiB")
            files["/".join(parts)] = _read_entry(archive, entry, path.name)
    return files


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, archive_name: str) -> bytes:
    """Read at most the size limit: a header may lie, and a small entry may inflate to gigabytes."""
    try:
        return read_entry(archive, entry, MAX_FILE_BYTES)
    except EntryUnreadable as exc:
        raise SubmissionRefused(f"{archive_name}: {entry.filename!r} {exc}") from None


def discard(prepared_root: Path) -> None:
    shutil.rmtree(prepared_root, ignore_errors=True)
