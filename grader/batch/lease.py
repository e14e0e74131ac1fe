"""A node's lease on the task it grades: how the coordinator learns, within a minute, that a node died.

With Redis, a task whose node died unacknowledged comes back only after the
transport's visibility timeout, which must be longer than any grading (half
an hour and more); ``acks_late`` and ``reject_on_worker_lost`` do not shorten
it when the whole node is gone. So a node, while it grades, keeps a key of
its own in Redis (``hml-lease-<task id>``) alive for ``SECONDS``, refreshed
every ``REFRESH`` seconds from a thread. The key is never deleted: it
outlives the result it guards, so a finished task is never taken for a dead
one. The coordinator sends a task again when its lease has lapsed with no
result in (``grader.batch.cluster.CeleryEngine``).

A lease says only "someone is grading this"; anyone with the broker's
password could write one and hold a task up, as they could delete it. The
signature on the answer, not the lease, decides what is recorded.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from celery import Celery

SECONDS = 30  # a node silent this long is taken for dead
REFRESH = 5   # far below SECONDS: a busy node misses a few refreshes before its lease lapses


def key(task_id: str) -> str:
    return f"hml-lease-{task_id}"


@contextmanager
def held(app: "Celery", task_id: str) -> Iterator[None]:
    """Hold the lease on ``task_id`` while the block runs (in the pool process that grades it)."""
    client = app.backend.client
    stop = threading.Event()

    def refresh() -> None:
        while True:
            try:
                client.set(key(task_id), "1", ex=SECONDS)
            except Exception:  # noqa: BLE001 - the broker away for a moment: the lease may lapse, the task is re-sent
                pass
            if stop.wait(REFRESH):
                return

    client.set(key(task_id), "1", ex=SECONDS)
    keeper = threading.Thread(target=refresh, name=f"hml-lease-{task_id[:8]}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join(timeout=REFRESH)


def alive(app: "Celery", task_ids: list[str]) -> dict[str, bool]:
    """Which of ``task_ids`` a node holds a lease on now (one round trip)."""
    if not task_ids:
        return {}
    found = app.backend.client.mget([key(t) for t in task_ids])
    return {task_id: value is not None for task_id, value in zip(task_ids, found)}
