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
            pools = self._pools.pop(exercise.id, None) or self._start(exercise)
            self._pools[exercise.id] = pools  # the most recently used last
            unused = list(self._pools)[:-self.keep] if self.keep else []
            retired = [self._pools.pop(exercise_id) for exercise_id in unused]
            addresses = {kind: pool.address for kind, pool in pools.items()}
        for old in retired:
            _close(old)
        return addresses

    def _start(self, exercise: Exercise) -> dict[str, WarmPool]:
        """A pool per kind of worker the tests use; kinds confined alike (learner code in both, the same limits:
        a KFP exercise's learner and pipeline runner) share one, whose parent imports what either imports.
        A fork of it then holds a library its kind's cold worker would not have imported, never a reference,
        a hidden input or another limit."""
        settings = {kind: worker_settings(exercise, kind) for kind in suite_needs(exercise).kinds}
        alike: dict[tuple, list[str]] = {}  # (limits, runs learner code) -> the kinds confined so
        for kind, (_, limits, runs_learner_code) in settings.items():
            alike.setdefault((limits, runs_learner_code), []).append(kind)
        pools = {}
        for (limits, runs_learner_code), kinds in alike.items():
            preload = list(dict.fromkeys(name for kind in kinds for name in settings[kind][0]))
            pools.update(dict.fromkeys(kinds, WarmPool(preload, limits, runs_learner_code, self.sandbox)))
        return pools

    def finished(self, exercise: Exercise) -> None:
        """The exercise's last submission is graded: its pools go."""
        with self._lock:
            pools = self._pools.pop(exercise.id, {})
        _close(pools)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, {}
        for exercise_pools in pools.values():
            _close(exercise_pools)

    def __enter__(self) -> "WarmPools":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _close(pools: dict[str, WarmPool]) -> None:
    for pool in set(pools.values()):  # kinds confined alike share one
        pool.close()
