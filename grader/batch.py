"""Batches of submissions: what to grade, what to skip, and how far along we are.

* ``suite_hash``: one digest of everything that decides an exercise's grade
  (its tests, the solution folder, the trusted helpers tests call, the
  library versions). Changing any of it regrades; the batch cache is keyed
  on it, so changed tests never read stale references.
* ``content_hash``: one digest of a submission as sent (file, notebook,
  folder or zip).
* ``discover_class``: ``ROOT/<learner>/<exercise>[.py|.ipynb|.zip|/]``.
* ``plan``: which submissions the gradebook already holds with the same
  content and the same suite (skipped), and in which order to grade the rest.
* ``BatchProgress``: the rich progress display (done, failed, running,
  skipped, time left).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from grader.course import Course, Exercise
from grader.special_files import special_kind

if TYPE_CHECKING:  # pragma: no cover
    from grader.engines import Engine
    from grader.gradebook import Gradebook
    from grader.results import GradeResult
    from grader.run import Job

HASH_VERSION = "1"  # bump when what goes into a suite hash changes
SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
# The trusted helpers hidden and public tests call: part of what a grade depends on.
ENGINE_PARTS = ("plugin.py", "testing.py", "wire.py", "recipes", "evaluators", "checks", "fixtures")
# Libraries whose behaviour the tests measure; a new version may change a grade.
LIBRARIES = ("kfp", "google-cloud-aiplatform", "tensorflow-cpu", "tensorflow", "keras", "ai-edge-litert",
             "numpy", "pytest")
_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache"}
# Names the output directory uses for itself: a learner folder may not take them.
RESERVED = {"report", "gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm"}


def _files_below(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = []
    for directory, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found += [Path(directory) / f for f in sorted(filenames) if not f.endswith((".pyc", ".tmp"))]
    return found


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


_suite_cache: dict[tuple, str] = {}
_suite_lock = threading.Lock()


def suite_hash(exercise: Exercise, course: Course) -> str:
    """The digest of an exercise's test suite and everything its tests rely on."""
    engine = Path(__file__).resolve().parent
    files: list[tuple[str, Path]] = [("exercise/exercise.toml", exercise.directory / "exercise.toml")]
    files += [(f"exercise/{p.name}", p) for p in exercise.public_tests]
    files += [(f"solution/{p.relative_to(exercise.solution_dir).as_posix()}", p)
              for p in _files_below(exercise.solution_dir)]
    for part in ENGINE_PARTS:
        files += [(f"grader/{p.relative_to(engine).as_posix()}", p) for p in _files_below(engine / part)]
    stamp = tuple((label, p.stat().st_mtime_ns, p.stat().st_size) for label, p in files if p.is_file())
    key = (exercise.id, str(course.root), stamp)
    with _suite_lock:
        if key in _suite_cache:
            return _suite_cache[key]
    digest = hashlib.sha256(f"hml-suite-v{HASH_VERSION}\n".encode())
    for name, version in sorted(library_versions().items()):
        digest.update(f"lib {name}=={version}\n".encode())
    for label, path in files:
        if path.is_file():
            digest.update(f"file {label} {_file_digest(path)}\n".encode())
    value = digest.hexdigest()
    with _suite_lock:
        _suite_cache[key] = value
    return value


def content_hash(submission: Path) -> str:
    """The digest of a submission as sent: a file's bytes, or a folder's names and bytes.

    Links, pipes, sockets and devices are named, never opened (a FIFO would
    block the batch here); intake then refuses them with a message.
    """
    if not os.path.lexists(submission):
        return hashlib.sha256(b"missing").hexdigest()
    kind = special_kind(submission)
    if kind is not None:
        return hashlib.sha256(f"special {kind}".encode()).hexdigest()
    if submission.is_file():
        return _file_digest(submission)
    digest = hashlib.sha256(b"hml-folder\n")
    for path in _files_below(submission):
        relative = path.relative_to(submission).as_posix()
        kind = special_kind(path)
        if kind is not None:
            digest.update(f"special {relative} {kind}\n".encode())
        else:
            digest.update(f"file {relative} {_file_digest(path)}\n".encode())
    return digest.hexdigest()


def uses_batch_cache(exercise: Exercise) -> bool:
    """Whether an exercise's tests share references through ``batch_cache`` (worth warming first)."""
    for path in exercise.public_tests + exercise.hidden_tests:
        try:
            if "batch_cache" in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def cold_exercises(items: list["Planned"], cache_root: Path) -> set[str]:
    """Exercises whose tests use the batch cache and whose cache is still empty: warm them first."""
    cold = set()
    for item in items:
        exercise = item.job.exercise
        if exercise.id in cold or not uses_batch_cache(exercise):
            continue
        folder = cache_dir_for(cache_root, exercise, item.suite_hash)
        if not folder.is_dir() or not any(folder.iterdir()):
            cold.add(exercise.id)
    return cold


def cache_dir_for(cache_root: Path, exercise: Exercise, suite: str) -> Path:
    """Where a batch keeps an exercise's shared references: changed tests get a fresh folder."""
    return cache_root / f"{exercise.id}-{suite[:16]}"


# -- a class on disk --------------------------------------------------------------------------


@dataclass
class Entry:
    learner: str
    exercise: Exercise
    path: Path


@dataclass
class Discovery:
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what was found but cannot be graded, and why


def discover_class(root: Path, course: Course, only: Iterable[str] = ()) -> Discovery:
    """Find ``ROOT/<learner>/<exercise>`` submissions: a module, a notebook, a folder or a zip."""
    found = Discovery()
    known = set(course.exercise_ids())
    only = set(only)
    exercises: dict[str, Exercise] = {}
    for learner_dir in sorted(root.iterdir()):
        if learner_dir.name.startswith(".") or not learner_dir.is_dir() or learner_dir.is_symlink():
            if not learner_dir.name.startswith("."):
                found.problems.append(f"{learner_dir.name}: not a learner folder (expected ROOT/<learner>/<exercise>)")
            continue
        if learner_dir.name in RESERVED:
            found.problems.append(f"{learner_dir.name}: this learner name is reserved for the grader's output; "
                                  "rename the folder")
            continue
        by_exercise: dict[str, list[Path]] = defaultdict(list)
        for item in sorted(learner_dir.iterdir()):
            if item.name.startswith("."):
                continue
            exercise_id = item.name if item.is_dir() else item.stem if item.suffix in SUBMISSION_SUFFIXES else None
            if exercise_id not in known:
                found.problems.append(f"{learner_dir.name}/{item.name}: not a submission of a known exercise "
                                      f"(name it <exercise>, <exercise>.zip, .ipynb or .py)")
                continue
            by_exercise[exercise_id].append(item)
        for exercise_id, items in sorted(by_exercise.items()):
            if only and exercise_id not in only:
                continue
            if len(items) > 1:
                found.problems.append(f"{learner_dir.name}: {len(items)} submissions of {exercise_id} "
                                      f"({', '.join(i.name for i in items)}); keep one")
                continue
            exercise = exercises.setdefault(exercise_id, course.exercise(exercise_id))
            found.entries.append(Entry(learner_dir.name, exercise, items[0]))
    return found


# -- planning ----------------------------------------------------------------------------------


@dataclass
class Planned:
    job: "Job"
    content_hash: str
    suite_hash: str
    previous: "GradeResult | None" = None  # the recorded result, when the job is skipped

    @property
    def skip(self) -> bool:
        return self.previous is not None


def plan(jobs: list["Job"], course: Course, gradebook: "Gradebook | None", *, force: bool = False,
         retry_errors: bool = False) -> list[Planned]:
    """Hash every job and mark those the gradebook holds with the same content and suite."""
    suites: dict[str, str] = {}
    planned = []
    for job in jobs:
        suite = suites.get(job.exercise.id) or suites.setdefault(job.exercise.id, suite_hash(job.exercise, course))
        item = Planned(job, content_hash(job.submission), suite)
        if gradebook is not None and not force:
            item.previous = gradebook.unchanged(job.who, job.exercise.id, item.content_hash, suite,
                                                job.results_file, retry_errors=retry_errors)
        planned.append(item)
    return planned


def guess_seconds(exercise: Exercise) -> float:
    """A rough grading time, before any history exists: TensorFlow workers are the slow ones."""
    preload = set(exercise.preload) | set(exercise.evaluator_preload)
    if any(p.split(".")[0] in ("tensorflow", "keras") for p in preload):
        return 20.0
    return 5.0 if preload else 1.0


def schedule(items: list[Planned], expected: dict[str, float]) -> list[Planned]:
    """Grading order: the first submission of each exercise (it fills the batch cache), slowest
    exercises first, then the rest, slowest first. Two workers thus rarely compute the same
    reference at once, and a long submission does not start last. ``expected`` holds mean
    grading times from earlier runs; exercises without any are guessed."""
    firsts, rest, seen = [], [], set()
    for item in items:
        (rest if item.job.exercise.id in seen else firsts).append(item)
        seen.add(item.job.exercise.id)

    def key(item: Planned) -> float:
        exercise = item.job.exercise
        return -expected.get(exercise.id, guess_seconds(exercise))

    return sorted(firsts, key=key) + sorted(rest, key=key)


# -- progress ----------------------------------------------------------------------------------


class Estimator:
    """Time left: per exercise, the mean grading time so far (or from earlier runs), over the workers."""

    def __init__(self, jobs: list["Job"], workers: int, history: dict[str, float]):
        self.workers = max(1, workers)
        self.history = dict(history)
        self.pending: dict[str, int] = defaultdict(int)
        for job in jobs:
            self.pending[job.exercise.id] += 1
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.running: dict[int, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def mean(self, exercise_id: str) -> float | None:
        own = self.durations.get(exercise_id)
        if own:
            return sum(own) / len(own)
        if exercise_id in self.history:
            return self.history[exercise_id]
        everything = [d for values in self.durations.values() for d in values]
        return sum(everything) / len(everything) if everything else None

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
                total += max(mean - (now - started), 0.0)
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
        from rich.markup import escape

        self.estimator.finish(job, result.execution_time)
        trouble = bool(result.refused or result.error)
        with self.lock:
            self.counts["running"] -= 1
            self.counts["failed" if trouble else "done"] += 1
            self.progress.update(self.task, advance=1, **self.counts)
        if not self.quiet:
            mark = "[red]✗[/]" if trouble else "[green]✓[/]"
            note = ""
            if result.refused:
                note = f" [red]refused[/]: {escape(result.refused.splitlines()[0][:70])}"
            elif result.error:
                note = f" [red]grader error[/]: {escape(result.error.splitlines()[0][:70])}"
            self.progress.console.print(f"{mark} {escape(job.who)} · {job.exercise.id}: "
                                        f"{result.score:g}/{result.max_score:g} in {result.execution_time:.1f}s{note}",
                                        highlight=False)


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
    from grader.results import GradeResult

    return GradeResult(submission=result.submission, exercise=result.exercise, execution_time=result.execution_time,
                       error=f"the grader could not record this result ({type(exc).__name__}); grade it again",
                       sandboxed=result.sandboxed)


def run_batch(jobs: list["Job"], *, course: Course, gradebook_path: Path | None, cache_root: Path,
              workers: int = 1, sandboxed: bool = True, force: bool = False, retry_errors: bool = False,
              command: str = "grade", console=None, quiet: bool = False, show_progress: bool = True,
              pytest_args: tuple[str, ...] = (), engine: "Engine | None" = None) -> BatchOutcome:
    """Grade ``jobs``: skip what the gradebook already holds unchanged, record each run as it
    finishes, show progress. Ctrl-C stops cleanly: every finished run is kept, and
    ``interrupted`` is set (the caller decides the exit status). ``engine`` is where grading
    runs (``grader.engines``): by default ``workers`` gradings at once on this machine."""
    from grader.engines import LocalEngine
    from grader.gradebook import Gradebook

    engine = engine or LocalEngine(cache_root, workers, sandboxed, tuple(pytest_args))

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
