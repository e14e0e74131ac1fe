"""What a batch keeps warm: its exercises' pools and one pytest parent, started and closed together.

Whoever knows the batch first starts them: ``hml grade`` does before it imports
the coordinator or reads a submission, so the warm processes' imports overlap
its own start-up instead of following it; ``grade_many`` starts its own when
no one did; a cluster node keeps one across its tasks.
"""
from __future__ import annotations

from typing import Iterable

from grader.course.model import Course, Exercise
from grader.grading.warm_pools import WarmPools
from grader.grading.warm_pytest import WarmPytest, warm_pytest_wanted
from grader.sandbox.launch import Sandbox


def uses_kfp(exercises: Iterable[Exercise]) -> bool:
    return any(name.split(".")[0] == "kfp" for exercise in exercises for name in exercise.preload)


class Warm:
    """``pools`` (``WarmPools``) and ``pytest_parent`` (a ``WarmPytest``, or None where turned off)."""

    def __init__(self, course: Course, sandbox: Sandbox, *, kfp: bool, keep: int | None = None):
        """``kfp``: the pytest parent imports kfp's IR modules too; ``keep``: as ``WarmPools``'s."""
        self.pools = WarmPools(sandbox, keep)
        self.pytest_parent = WarmPytest(course.root, kfp=kfp) if warm_pytest_wanted() else None

    @classmethod
    def started(cls, course: Course, sandbox: Sandbox, exercises: list[Exercise]) -> "Warm":
        """A batch's warm processes with the pools of ``exercises`` already starting."""
        warm = cls(course, sandbox, kfp=uses_kfp(exercises))
        for exercise in exercises:
            warm.pools.addresses(exercise)
        return warm

    def close(self) -> None:
        self.pools.close()
        if self.pytest_parent is not None:
            self.pytest_parent.close()

    def __enter__(self) -> "Warm":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
