"""What a batch keeps warm: its exercises' pools and one pytest parent, started and closed together.

Whoever knows the batch first starts them: ``hml grade`` does before it imports
the coordinator or reads a submission, so the warm processes' imports overlap
its own start-up instead of following it; ``grade_many`` starts its own when
no one did; a cluster node keeps one across its tasks.
"""
from __future__ import annotations


from grader.course.model import Course, Exercise
from grader.grading.config import trusted_imports
from grader.grading.warm_pools import WarmPools
from grader.grading.warm_pytest import WarmPytest, warm_pytest_wanted
from grader.sandbox.launch import Sandbox


class Warm:
    """``pools`` (``WarmPools``) and ``pytest_parent`` (a ``WarmPytest``, or None where turned off)."""

    def __init__(self, course: Course, sandbox: Sandbox, *, imports: list[str], keep: int | None = None):
        """``imports``: as ``WarmPytest``'s; ``keep``: as ``WarmPools``'s."""
        self.pools = WarmPools(sandbox, keep)
        self.pytest_parent = WarmPytest(course.root, imports) if warm_pytest_wanted() else None

    @classmethod
    def started(cls, course: Course, sandbox: Sandbox, exercises: list[Exercise], runs: int = 1) -> "Warm":
        """The warm processes of ``runs`` gradings of ``exercises``, the pools already starting. For one run the
        checks' own imports are left to the run, which makes them in the background: the parent would make it
        wait for them."""
        warm = cls(course, sandbox, imports=trusted_imports(exercises) if runs > 1 else [])
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
