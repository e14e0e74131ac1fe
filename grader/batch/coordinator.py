"""Batches of submissions, coordinated: what to grade, what to skip, and recording what comes back.

* what to grade is planned in ``grader.batch.plan``;
* ``run_batch``: the coordinator. An engine (``grader.batch.engines``: this
  machine's pool, or Celery workers) grades; results, the gradebook and the
  progress display (``grader.batch.progress``) are recorded here only, as each
  result arrives.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.batch.plan import plan, schedule
from grader.batch.progress import BatchProgress, Estimator
from grader.course.model import Course

if TYPE_CHECKING:  # pragma: no cover
    from grader.batch.engines import Engine
    from grader.grading.run import Job
    from grader.record.results import GradeResult


# -- one batch, start to finish ----------------------------------------------------------------


def _stop_on_signals():
    """SIGTERM and SIGHUP stop a batch as Ctrl-C does: finished results kept, the rest dropped."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


@dataclass
class BatchOutcome:
    results: list["GradeResult"]  # graded now or recorded earlier, in job order (finished ones only)
    per_job: list["GradeResult | None"]  # aligned with the jobs; None where a job did not finish
    graded: int
    skipped: int
    interrupted: bool
    gradebook: Path | None
    elapsed: float
    problems: list[str] = field(default_factory=list)  # submissions the engine could not grade, and why


def recording_failed(result: "GradeResult", exc: Exception) -> "GradeResult":
    """What is recorded for a submission whose own result could not be written."""
    from grader.record.results import GradeResult

    return GradeResult(submission=result.submission, exercise=result.exercise, execution_time=result.execution_time,
                       error=f"the grader could not record this result ({type(exc).__name__}); grade it again",
                       sandboxed=result.sandboxed)


def run_batch(jobs: list["Job"], *, course: Course, engine: "Engine", gradebook_path: Path | None,
              workers: int = 1, force: bool = False, retry_errors: bool = False, command: str = "grade",
              console=None, quiet: bool = False, show_progress: bool = True) -> BatchOutcome:
    """Grade ``jobs`` with ``engine`` (``grader.batch.engines``: this machine's pool, or the cluster):
    skip what the gradebook already holds unchanged, record each run as it finishes, show progress
    (``workers``: how many run at once, for the estimate). Ctrl-C stops cleanly: every finished run
    is kept, and ``interrupted`` is set (the caller decides the exit status)."""
    from grader.record.gradebook import Gradebook

    started = time.monotonic()
    book = Gradebook(gradebook_path) if gradebook_path is not None else None
    try:
        planned = plan(jobs, course, book, force=force, retry_errors=retry_errors)
        todo = [item for item in planned if not item.skip]
        history = book.mean_times() if book is not None else {}
        todo = schedule(todo, history)
        batch_id = book.start_batch(command, workers, len(planned), len(planned) - len(todo)) if book else None
        by_job = {id(item.job): item for item in planned}
        results: dict[int, "GradeResult"] = {id(item.job): item.previous for item in planned if item.skip}
        estimator = Estimator([item.job for item in todo], workers, history)
        progress = BatchProgress(len(todo), len(planned) - len(todo), estimator, console=console, quiet=quiet)

        def record(job: "Job", result: "GradeResult") -> None:
            item = by_job[id(job)]
            if book is not None:
                book.record(job.who, result, submission=str(job.submission), content_hash=item.content_hash,
                            suite_hash=item.suite_hash, results_path=job.results_file, batch_id=batch_id)
            results[id(job)] = result
            progress.finished(job, result)

        def done(job: "Job", result: "GradeResult") -> None:
            # One submission that cannot be recorded must not stop the batch: it is recorded as a grader error.
            try:
                record(job, result)
            except Exception as exc:  # noqa: BLE001 - the batch goes on
                failed = recording_failed(result, exc)
                try:
                    record(job, failed)
                except Exception:  # noqa: BLE001 - not even that: kept for the summary only
                    results[id(job)] = failed

        interrupted = False
        restore = _stop_on_signals()
        try:
            if show_progress and todo:
                progress.__enter__()
            engine.run(todo, course=course, on_start=progress.started, on_done=done)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            restore()
            if show_progress and todo:
                progress.__exit__(None, None, None)
            if book is not None and batch_id is not None:
                book.finish_batch(batch_id, interrupted)
        per_job = [results.get(id(job)) for job in jobs]
        ordered = [r for r in per_job if r is not None]
        return BatchOutcome(ordered, per_job, graded=len(ordered) - (len(planned) - len(todo)),
                            skipped=len(planned) - len(todo), interrupted=interrupted,
                            gradebook=gradebook_path, elapsed=time.monotonic() - started,
                            problems=list(engine.problems))
    finally:
        if book is not None:
            book.close()
