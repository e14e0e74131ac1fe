"""Processes below a process: found from /proc, killed to the last one.

Without a PID namespace (Landlock, or no sandbox) a learner's process that
calls setsid leaves its process group; one whose parent dies is handed to
the nearest subreaper. So the processes that must die with a worker are
found as descendants of a subreaper, never by group.
"""
from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import time
from typing import Iterator

PR_SET_CHILD_SUBREAPER = 36


def make_non_dumpable(dumpable: bool = False) -> None:
    """Out of reach of ptrace and of /proc's memory and descriptors for processes of the same uid."""
    PR_SET_DUMPABLE = 4
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def become_subreaper() -> None:
    """Orphans below this process become its children: a daemon stays a descendant, and killable."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, session id, state), read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), int(fields[3]), fields[0].decode())
    return table


def descendants(table: dict, root: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid, (parent, _, _) in table.items():
        children[parent].append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_descendants(root: int, rounds: int = 100, *, all_but: set[int] | None = None,
                     spare: set[int] = frozenset()) -> None:
    """SIGKILL every live descendant of ``root`` until none is left (new ones forked meanwhile too).

    ``all_but``: in a PID namespace of one's own, every process but these goes too. ``spare``: these
    stay, though not what is below them. When ``root`` is this process, the orphans handed to it (a
    subreaper) are reaped as they die.
    """
    for _ in range(rounds):
        if root == os.getpid():
            _reap()
        table = process_table()
        victims = set(descendants(table, root))
        if all_but is not None:
            victims |= set(table) - all_but
        victims -= spare
        victims = [pid for pid in victims if table.get(pid, (0, 0, "Z"))[2] != "Z"]
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def ancestors(pid: int) -> list[int]:
    table, found = process_table(), []
    while pid in table and table[pid][0] not in (0, pid):
        pid = table[pid][0]
        found.append(pid)
    return found


def _reap() -> None:
    """Collect the exit status of this process's children that have died (orphans handed to a subreaper)."""
    for _ in reaped():
        pass


def reaped() -> Iterator[tuple[int, int]]:
    """``(pid, exit code)`` of each child of this process that has ended, collected now, without waiting
    (the code as ``subprocess`` gives it: negative for a signal)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)
