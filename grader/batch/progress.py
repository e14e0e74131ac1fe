"""How far along a batch is: the time-left estimate and the rich progress display."""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from grader.course.model import Exercise
from grader.learner_text import for_console
from grader.record.kinds import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from grader.grading.run import Job
    from grader.record.results import GradeResult


def guess_seconds(exercise: Exercise) -> float:
    """One grading's time before any history exists: the exercise's measured one, else a rough guess."""
    if exercise.expected_seconds:
        return float(exercise.expected_seconds)
    if exercise.needs_tensorflow:
        return 20.0
    return 5.0 if exercise.preload or exercise.evaluator_preload else 1.0


class Estimator:
    """Time left: per exercise, the mean grading time so far, else from earlier runs, else the exercise's
    known duration (never another exercise's), over the workers. A grading running past its mean still
    has time left: a fraction of what it took so far."""

    def __init__(self, jobs: list["Job"], workers: int, history: dict[str, float]):
        self.workers = max(1, workers)
        self.history = dict(history)
        self.pending: dict[str, int] = defaultdict(int)
        self.known: dict[str, float] = {}
        for job in jobs:
            self.pending[job.exercise.id] += 1
            self.known.setdefault(job.exercise.id, guess_seconds(job.exercise))
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.running: dict[int, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def mean(self, exercise_id: str) -> float | None:
        own = self.durations.get(exercise_id)
        if own:
            return sum(own) / len(own)
        if exercise_id in self.history:
            return self.history[exercise_id]
        return self.known.get(exercise_id)

    def start(self, job: "Job") -> None:
        with self.lock:
            self.pending[job.exercise.id] -= 1
            self.running[id(job)] = (job.exercise.id, time.monotonic())

    def finish(self, job: "Job", seconds: float) -> None:
        with self.lock:
            self.running.pop(id(job), None)
            self.durations[job.exercise.id].append(seconds)

    def seconds_left(self) -> float | None:
        with self.lock:
            total = 0.0
            for exercise_id, count in self.pending.items():
                if count <= 0:
                    continue
                mean = self.mean(exercise_id)
                if mean is None:
                    return None
                total += count * mean
            now = time.monotonic()
            for exercise_id, started in self.running.values():
                mean = self.mean(exercise_id)
                if mean is None:
                    return None
                elapsed = now - started
                total += mean - elapsed if elapsed < mean else max(0.25 * elapsed, 1.0)
            return total / self.workers


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class BatchProgress:
    """A rich progress bar for a batch: done, failed, running, skipped and an estimate of time left.

    One line per finished submission is printed above the bar, so logs (CI,
    a file) keep a record even where the bar itself cannot be drawn.
    """

    def __init__(self, total: int, skipped: int, estimator: Estimator, *, console=None, quiet: bool = False):
        from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        from grader.console import console as default_console

        self.console = console or default_console
        self.quiet = quiet
        self.estimator = estimator
        self.counts = {"done": 0, "failed": 0, "running": 0, "skipped": skipped}
        outer = self

        class Remaining(ProgressColumn):
            def render(self, task) -> Text:
                if task.finished:
                    return Text("")
                return Text(f"~{format_seconds(outer.estimator.seconds_left())} left", style="progress.remaining")

        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/] "
                       "[cyan]{task.fields[running]} running[/] [dim]{task.fields[skipped]} skipped[/]"),
            TimeElapsedColumn(), Remaining(), console=self.console, transient=False,
        )
        self.task = self.progress.add_task("grading", total=total, **self.counts)
        self.lock = threading.Lock()

    def __enter__(self) -> "BatchProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def started(self, job: "Job") -> None:
        self.estimator.start(job)
        with self.lock:
            self.counts["running"] += 1
            self.progress.update(self.task, **self.counts)

    def finished(self, job: "Job", result: "GradeResult") -> None:
        self.estimator.finish(job, result.execution_time)
        trouble = result.outcome is not Outcome.GRADED
        with self.lock:
            self.counts["running"] -= 1
            self.counts["failed" if trouble else "done"] += 1
            self.progress.update(self.task, advance=1, **self.counts)
        if not self.quiet:
            # The submission's name and a refusal's reason are learner-made (folder and file names): printed
            # through for_console, they cannot move the cursor to overwrite another learner's line.
            mark = "[red]✗[/]" if trouble else "[green]✓[/]"
            note = ""
            if result.outcome is Outcome.REFUSED:
                note = f" [red]refused[/]: {for_console(result.refused.splitlines()[0], 70)}"
            elif result.outcome is Outcome.GRADER_ERROR:
                note = f" [red]grader error[/]: {for_console(result.grader_failure.splitlines()[0], 70)}"
            self.progress.console.print(f"{mark} {for_console(job.who)} · {job.exercise.id}: "
                                        f"{result.score:g}/{result.max_score:g} in {result.execution_time:.1f}s{note}",
                                        highlight=False)
