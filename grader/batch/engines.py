"""Where grading runs: one interface, two engines.

The batch coordinator (``grader.batch.coordinator.run_batch``) decides what to grade and
records what comes back; an engine only grades. ``run`` calls ``on_start``
when a submission starts and ``on_done`` (in the calling thread) when its
result is in, and raises ``KeyboardInterrupt`` when stopped, after handing
over every result that finished. ``problems`` lists submissions an engine
could not grade for a reason that is not the submission's (they stay
ungraded, for the next run).

- ``LocalEngine``: a pool of gradings on this machine (``--jobs``).
- ``grader.batch.cluster.CeleryEngine``: Celery workers over Redis, on many machines.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ContextManager, Iterator, Protocol

from grader.errors import ExitCode, GraderError

if TYPE_CHECKING:  # pragma: no cover
    from grader.batch.plan import Planned
    from grader.course.model import Course, Exercise
    from grader.grading.run import Job
    from grader.grading.warm import Warm
    from grader.record.results import GradeResult
    from grader.sandbox.launch import Sandbox


class Engine(Protocol):
    problems: list[str]

    def run(self, items: list["Planned"], *, course: "Course", on_start: Callable[["Job"], None],
            on_done: Callable[["Job", "GradeResult"], None]) -> None: ...

    def warmed(self, course: "Course", exercises: list["Exercise"], runs: int = 1) -> ContextManager[None]:
        """Within it, the engine's warm processes for ``runs`` gradings of ``exercises`` are starting (or there
        are none)."""


@dataclass
class LocalEngine:
    """Up to ``workers`` gradings at once on this machine, sharing a batch cache under ``cache_root``."""

    cache_root: Path
    sandbox: "Sandbox"
    workers: int = 1
    pytest_args: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)
    warm: "Warm | None" = None

    @contextmanager
    def warmed(self, course: "Course", exercises: list["Exercise"], runs: int = 1) -> Iterator[None]:
        """Start the warm pools and pytest parent of ``runs`` gradings now, to overlap their imports with the
        caller's own start-up and planning; ``run`` within grades with them. Closed on leaving."""
        from grader.grading.warm import Warm

        with Warm.started(course, self.sandbox, exercises, runs) as self.warm:
            try:
                yield
            finally:
                self.warm = None

    def run(self, items: list["Planned"], *, course: "Course", on_start: Callable[["Job"], None],
            on_done: Callable[["Job", "GradeResult"], None]) -> None:
        from grader.grading import batch_cache
        from grader.grading.run import grade_many

        suites = {id(item.job): item.suite_hash for item in items}
        grade_many([item.job for item in items], course=course, sandbox=self.sandbox, workers=self.workers,
                   on_done=on_done, on_start=on_start, pytest_args=self.pytest_args,
                   cache_dirs=lambda job: batch_cache.folder(self.cache_root, job.exercise, suites[id(job)]),
                   warm_first=batch_cache.cold(((item.job.exercise, item.suite_hash) for item in items),
                                               self.cache_root),
                   warm=self.warm)


class NoBroker(GraderError):
    """``--engine celery`` without a broker to send the tasks to."""

    exit_code = ExitCode.USAGE
    param_hint = "--broker"


def engine_for(kind: str, broker: str | None, jobs: int, cache_root: Path,
               choose_sandbox: Callable[[], "Sandbox"], broker_file: Path | None = None) -> Engine:
    """The engine the batch commands grade with: ``local`` (``jobs`` at once, in the sandbox
    ``choose_sandbox`` decides) or ``celery`` (over the broker ``--broker``, ``broker_file`` or
    ``HML_BROKER`` names, with the cluster's key; each node grades in its own sandbox)."""
    if kind == "local":
        return LocalEngine(cache_root, choose_sandbox(), jobs)
    from grader.batch.credentials import broker_url

    url = broker_url(broker, broker_file)
    if not url:
        raise NoBroker("--engine celery needs --broker-file FILE (or HML_BROKER_FILE) holding the Redis URL, "
                       "HML_BROKER, or --broker redis://HOST:PORT/N for a broker without a password")
    from grader.batch.cluster import CeleryEngine, check_broker
    from grader.batch.signing import ClusterKey

    key = ClusterKey.from_environment()
    check_broker(url)
    return CeleryEngine(url, key)
