"""Walking a learner's folder: without following links, without recursion, bounded in depth.

``os.walk`` recurses once per level (Python 3.11), so a submission nested
a thousand folders deep would end a whole batch with ``RecursionError``.
Folders below ``MAX_DEPTH`` are not entered; intake refuses such a
submission (``too_deep``), and a digest simply does not see below it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

MAX_DEPTH = 32  # a course submission is a module, a notebook, a few helper packages


def walk(root: Path, skip: frozenset[str] = frozenset()) -> Iterator[tuple[Path, list[str], list[str], int]]:
    """``(folder, subfolder names, file names, depth)`` top-down, names sorted; links are listed, never entered.

    The caller may remove names from the subfolder list to skip them, as with ``os.walk``.
    """
    pending = [(Path(root), 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        folders = [e.name for e in entries if e.is_dir(follow_symlinks=False) and e.name not in skip]
        files = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
        yield folder, folders, files, depth
        if depth < MAX_DEPTH:
            pending += [(folder / name, depth + 1) for name in reversed(folders)]


def too_deep(root: Path) -> Path | None:
    """A folder below ``root`` nested deeper than ``MAX_DEPTH``, if there is one."""
    for folder, folders, _, depth in walk(root):
        if depth == MAX_DEPTH and folders:
            return (folder / folders[0]).relative_to(root)
    return None
