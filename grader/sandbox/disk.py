"""What a worker writes: measured while it runs, removed when it ends.

Under bubblewrap the scratch is a size-limited tmpfs; under Landlock it is a
folder on the host's disk, so a watcher outside the worker measures it. Both
sandboxes also watch what no folder shows: files a worker's processes hold
open after unlinking them (``O_TMPFILE`` too) and ``memfd`` memory, neither of
which the tmpfs size, ``RLIMIT_AS`` or a walk of the scratch sees.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

MAX_SCRATCH_ENTRIES = 100_000
SYSTEM_PATH = "/usr/bin:/bin"


def scratch_usage(root: Path, max_entries: int = MAX_SCRATCH_ENTRIES) -> float:
    """Bytes below ``root``; infinite past ``max_entries`` files (a million empty files fill a disk too), and
    infinite when a folder cannot be listed or an entry cannot be measured: what cannot be counted is over
    the limit (a folder of mode 0300 would hide what it holds)."""
    total, seen, stack = 0, 0, [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except FileNotFoundError:
            continue  # removed meanwhile
        except OSError:
            return float("inf")
        for entry in entries:
            seen += 1
            if seen > max_entries:
                return float("inf")
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except FileNotFoundError:
                continue
            except OSError:
                return float("inf")
    return total


def remove_tree(root: Path) -> bool:
    """Remove ``root`` whatever modes the worker left on its folders and however deep they nest; whether it is gone.

    Run as the grader's uid once the worker is dead: every folder is made readable, writable and searchable by
    its owner first (the grader's uid owns them, or is root), links are removed, never followed. GNU chmod and
    rm walk a tree of any depth; Python's own walks recurse once per level, and a learner's scratch can nest
    folders thousands deep, or past PATH_MAX.
    """
    if not os.path.lexists(root):
        return True
    try:
        shutil.rmtree(root, ignore_errors=True)  # the usual scratch: shallow and open, gone without a process
    except RecursionError:
        pass
    if not os.path.lexists(root):
        return True
    # From the system's own folders, whatever PATH the grader was started with (a learner's or a platform's).
    chmod, rm = (shutil.which(name, path=SYSTEM_PATH) for name in ("chmod", "rm"))
    for _ in range(3):
        if chmod and rm:
            # GNU chmod opens each folder up before it enters it, by handle (no path grows past PATH_MAX), and
            # neither follows nor changes a link inside the tree.
            subprocess.run([chmod, "-R", "u+rwx", "--", str(root)], stdin=subprocess.DEVNULL, capture_output=True,
                           check=False)
            subprocess.run([rm, "-rf", "--one-file-system", "--", str(root)], stdin=subprocess.DEVNULL,
                           capture_output=True, check=False)
        if not os.path.lexists(root):
            return True
    return False


def held_nameless(pids: list[int], threads: bool = True) -> float:
    """Bytes of the nameless regular files (unlinked, ``O_TMPFILE``, ``memfd``) that ``pids`` (any of their
    threads, unless ``threads`` is false: the processes' own tables only) hold open, each counted once; infinite when a process's open files cannot be read (a worker that made itself undumpable
    would hide them). Processes that end meanwhile are skipped."""
    total, seen = 0, set()
    for pid in pids:
        try:
            # Each thread's own table: a thread cloned without CLONE_FILES (or that unshared it) keeps
            # descriptors its process's table no longer shows.
            tables = [t.path for t in os.scandir(f"/proc/{pid}/task")] if threads else [f"/proc/{pid}"]
            entries = [entry for table in tables for entry in os.scandir(f"{table}/fd")]
        except (FileNotFoundError, ProcessLookupError):
            continue
        except OSError:
            return float("inf")
        for entry in entries:
            try:
                info = os.stat(entry.path)  # follows the descriptor to the open file, named or not
            except PermissionError:
                return float("inf")
            except OSError:
                continue  # closed meanwhile
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0 and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total
