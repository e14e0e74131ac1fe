"""The warm pools a batch grades with: one per kind of worker an exercise's tests use, started once.

A pool is started when the first submission of its exercise is graded (its
imports overlap that submission's own start-up) and closed once the
exercise's last submission is done, so a batch holds the pools of the
exercises it is grading now, not of every exercise it has seen.
"""
from __future__ import annotations

import threading

from grader.course.model import Exercise
from grader.grading.config import suite_needs, worker_settings
from grader.sandbox.launch import Sandbox
from grader.sandbox.pool import PoolAddress, WarmPool, pools_work_here


class WarmPools:
    """The pools of a batch; ``addresses`` for each submission, ``done`` after it, ``close`` at the end."""

    def __init__(self, sandbox: Sandbox, keep: int | None = None):
        """``keep``: at most this many exercises' pools at once, the least recently used closed first (a
        cluster node, which never learns that an exercise is finished); None: until ``finished``."""
        self.sandbox = sandbox
        self.keep = keep
        self.enabled = pools_work_here(sandbox)
        self._pools: dict[str, dict[str, WarmPool]] = {}
        self._lock = threading.Lock()

    def addresses(self, exercise: Exercise) -> dict[str, PoolAddress]:
        if not self.enabled:
            return {}
        with self._lock:
            pools = self._pools.pop(exercise.id, None) or {
                kind: WarmPool(*worker_settings(exercise, kind), self.sandbox) for kind in suite_needs(exercise).kinds}
            self._pools[exercise.id] = pools  # the most recently used last
            unused = list(self._pools)[:-self.keep] if self.keep else []
            retired = [self._pools.pop(exercise_id) for exercise_id in unused]
            addresses = {kind: pool.address for kind, pool in pools.items()}
        for old in retired:
            for pool in old.values():
                pool.close()
        return addresses

    def finished(self, exercise: Exercise) -> None:
        """The exercise's last submission is graded: its pools go."""
        with self._lock:
            pools = self._pools.pop(exercise.id, {})
        for pool in pools.values():
            pool.close()

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, {}
        for exercise_pools in pools.values():
            for pool in exercise_pools.values():
                pool.close()

    def __enter__(self) -> "WarmPools":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
