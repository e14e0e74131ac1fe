"""SysV IPC objects a worker left behind, found in /proc/sysvipc and removed when it ends.

Message queues, shared memory segments and semaphore sets outlive the process
that made them: without an IPC namespace (Landlock) one submission could leave
hidden inputs in a queue for the next, or hold host memory after its worker is
gone. A Landlock worker's filter refuses these calls (``grader/sandbox/seccomp.py``);
this is the second line: what exists when a worker ends and did not exist when
it started, made by its identity, is removed.

An object counts as the worker's when its creator's uid is the worker's own
uid; where workers share a uid (root without capabilities, the grader's uid),
only when every process the object names (the creator of a segment, the last
sender and receiver of a queue) is gone: a process still running that made one
is not this worker's. Semaphore sets name no process, so they are removed for a
worker of its own uid only.
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

IPC_RMID = 0
KINDS = ("msg", "shm", "sem")


@dataclass(frozen=True)
class IpcObject:
    kind: str  # msg, shm or sem
    key: int
    id: int
    cuid: int
    pids: tuple[int, ...]  # the processes it names: a segment's creator, a queue's last sender and receiver


def snapshot(root: Path = Path("/proc/sysvipc")) -> set[IpcObject]:
    """Every SysV object in this IPC namespace (empty where /proc/sysvipc cannot be read)."""
    found: set[IpcObject] = set()
    for kind in KINDS:
        try:
            lines = (root / kind).read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split()))
            try:
                pids = tuple(int(row[name]) for name in ("cpid", "lspid", "lrpid") if name in row)
                found.add(IpcObject(kind, int(row["key"]), int(row[{"msg": "msqid", "shm": "shmid",
                                                                  "sem": "semid"}[kind]]),
                                    int(row["cuid"]), pids))
            except (KeyError, ValueError):
                continue
    return found


def left_by(before: set[IpcObject], uid: int, own_uid: bool) -> list[IpcObject]:
    """Objects made since ``before`` by ``uid`` that belong to a worker now gone (see the module's rules)."""
    left = []
    for obj in snapshot() - before:
        if obj.cuid != uid:
            continue
        if own_uid or (obj.kind != "sem" and not any(_running(pid) for pid in obj.pids if pid > 0)):
            left.append(obj)
    return left


def remove(objects: list[IpcObject]) -> list[IpcObject]:
    """Remove ``objects``; return those that are still there."""
    libc = ctypes.CDLL(None, use_errno=True)
    for obj in objects:
        if obj.kind == "msg":
            libc.msgctl(obj.id, IPC_RMID, None)
        elif obj.kind == "shm":
            libc.shmctl(obj.id, IPC_RMID, None)
        else:
            libc.semctl(obj.id, 0, IPC_RMID, 0)
    now = {(o.kind, o.id) for o in snapshot()}
    # A segment still attached somewhere is only marked for removal (key 0): it goes with its last user.
    return [o for o in objects if (o.kind, o.id) in now and not _marked_removed(o)]


def _marked_removed(obj: IpcObject) -> bool:
    return obj.kind == "shm" and any(o.kind == "shm" and o.id == obj.id and o.key == 0 for o in snapshot())


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def worker_uid(own_uid: int | None) -> int:
    """The uid whose objects a worker would own: its own, or (shared) the grader's effective uid."""
    return own_uid if own_uid is not None else os.geteuid()
