"""The learner's files as a platform hands them over: a folder holding one file, or many.

Coursera (``/shared/submission/``) and Gradescope (``/autograder/submission/``)
both give the grader a folder. A folder holding a single module, notebook or
zip is that file; any other folder is graded as a folder (intake picks the
exercise's module, or a single notebook, from it). Refusals are intake's.
"""
from __future__ import annotations

from pathlib import Path

SINGLE_FILE_KINDS = (".py", ".ipynb", ".zip")
IGNORED = ("__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints")


def submitted(folder: Path) -> Path:
    """The path intake should grade: the folder's only file when it is a .py, .ipynb or .zip, else the folder."""
    if not folder.is_dir() or folder.is_symlink():
        return folder  # intake refuses it, with a message saying what it is
    entries = [p for p in folder.iterdir() if p.name not in IGNORED and not p.name.startswith("._")]
    if len(entries) == 1 and entries[0].suffix.lower() in SINGLE_FILE_KINDS and not entries[0].is_dir():
        return entries[0]
    return folder
