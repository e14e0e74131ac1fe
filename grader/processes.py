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

PR_SET_CHILD_SUBREAPER = 36


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


def kill_descendants(root: int, rounds: int = 100) -> None:
    """SIGKILL every live descendant of ``root`` until none is left (new ones forked meanwhile too)."""
    for _ in range(rounds):
        table = process_table()
        victims = [pid for pid in descendants(table, root) if table[pid][2] != "Z"]
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
