"""What ``hml start`` does: put an exercise's files in a learner's folder, never over their work.

The files are planned first (statement, starter module or notebook, support
files, public tests), then compared with what the folder holds: a file that
differs is a conflict, and nothing is written unless the learner forces it,
in which case their file is kept beside it as ``NAME.bak``.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from grader.course.model import Exercise
from grader.errors import GraderError
from grader.learner_tools.workspace import MARKER, LearnerWorkspace


class Role(Enum):
    STATEMENT = "the statement: read it first"
    MODULE = "your code: fill in the TODOs"
    NOTEBOOK = "your notebook: fill in the TODOs (open it with Jupyter)"
    TESTS = "the public tests `hml check` runs"
    SUPPORT = "a file the statement uses"


@dataclass(frozen=True)
class StartFile:
    role: Role
    name: str
    content: bytes


@dataclass(frozen=True)
class Written:
    file: StartFile
    note: str  # "new", "unchanged", or how the learner's own file was kept


@dataclass(frozen=True)
class Started:
    workspace: LearnerWorkspace
    written: list[Written]

    @property
    def starter(self) -> StartFile:
        return next(w.file for w in self.written if w.file.role in (Role.MODULE, Role.NOTEBOOK))


class StartRefused(GraderError):
    """The folder holds files of the learner's that starting would replace, or is not a folder."""


def start_exercise(exercise: Exercise, target: Path, *, notebook: bool = False, force: bool = False) -> Started:
    """Write the exercise's files into ``target``; ``StartRefused`` (nothing written) on a conflict."""
    if target.exists() and not target.is_dir():
        raise StartRefused(f"{target} exists and is not a folder")
    files = start_files(exercise, notebook)
    existing = LearnerWorkspace.load(target)
    _refuse_conflicts(target, files, existing, exercise, force)
    target.mkdir(parents=True, exist_ok=True)
    written = [_write(target / file.name, file) for file in files]
    workspace = LearnerWorkspace(target.resolve(), exercise.id, exercise.file, notebook)
    if existing is not None and existing.exercise == exercise.id:
        workspace.started = existing.started or workspace.started
        workspace.last_check = existing.last_check
    workspace.save()
    return Started(workspace, written)


def start_files(exercise: Exercise, notebook: bool) -> list[StartFile]:
    """Every file a learner starts with, in the order they are listed."""
    files = []
    if exercise.statement.is_file():
        files.append(StartFile(Role.STATEMENT, "README.md", exercise.statement.read_bytes()))
    files.append(_starter(exercise, notebook))
    for extra in exercise.extra_files:
        if not extra.is_file():
            raise StartRefused(f"the course is broken: {exercise.id} declares {extra.name}, which it lacks")
        files.append(StartFile(Role.SUPPORT, extra.name, extra.read_bytes()))
    files += [StartFile(Role.TESTS, test.name, test.read_bytes()) for test in exercise.public_tests]
    return files


def _starter(exercise: Exercise, notebook: bool) -> StartFile:
    if not notebook:
        return StartFile(Role.MODULE, exercise.file, exercise.starter.read_bytes())
    if exercise.starter_notebook.is_file():
        return StartFile(Role.NOTEBOOK, exercise.starter_notebook.name, exercise.starter_notebook.read_bytes())
    # The course ships only the module: the notebook is made from it, cell by cell.
    import nbformat

    from grader.intake.notebooks import module_to_notebook

    text = nbformat.writes(module_to_notebook(exercise.starter.read_text())) + "\n"
    return StartFile(Role.NOTEBOOK, exercise.starter_notebook.name, text.encode())


def _refuse_conflicts(target: Path, files: list[StartFile], existing: LearnerWorkspace | None,
                      exercise: Exercise, force: bool) -> None:
    conflicts = [f.name for f in files if (target / f.name).is_file() and (target / f.name).read_bytes() != f.content]
    conflicts += [f.name for f in files if (target / f.name).exists() and not (target / f.name).is_file()]
    if existing is not None and existing.exercise != exercise.id:
        conflicts.append(f"{MARKER} (a workspace of {existing.exercise})")
    if not conflicts or force:
        return
    starter = next(f.name for f in files if f.role in (Role.MODULE, Role.NOTEBOOK))
    lines = [f"{target} already holds {', '.join(conflicts)}, which differ from the course's; nothing was changed."]
    if starter in conflicts:
        lines.append(f"{starter} holds your work: continue with `cd {target} && hml check`.")
    lines.append("To start over, add --force (your files are kept as NAME.bak).")
    raise StartRefused(" ".join(lines))


def _write(path: Path, file: StartFile) -> Written:
    if path.is_file() and path.read_bytes() == file.content:
        return Written(file, "unchanged")
    note = "new"
    if path.exists():
        if path.is_dir():
            raise StartRefused(f"{path} is a folder; move it away first")
        backup = path.with_name(path.name + ".bak")
        shutil.copy2(path, backup)
        note = f"replaced (yours is kept as {backup.name})"
    path.write_bytes(file.content)
    return Written(file, note)
