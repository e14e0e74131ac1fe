"""One submission through pytest, and many in parallel.

Each submission is graded by its own trusted pytest process (public and
hidden tests), which talks to its own sandboxed worker. A crash, a timeout
or a refusal is recorded as that submission's result; the batch goes on.

A batch can be stopped (Ctrl-C, a ``stop`` event): submissions still
running are killed and reported as cancelled, never as results, so a
half-graded submission is never mistaken for a graded one. The pytest
processes die with the grader even when it is killed outright
(``PR_SET_PDEATHSIG``), so a killed batch leaves no orphans behind.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Collection, Sequence

from grader.course import markers
from grader.course.model import Course, Exercise
from grader.grading.config import GradingConfig, suite_needs, trusted_imports
from grader.intake.prepare import SubmissionRefused, discard, prepare
from grader.record.results import GradeResult
from grader.grading.warm import Warm
from grader.grading.warm_pytest import WarmPytest
from grader.sandbox.fork_server import Forked, ParentGone
from grader.sandbox.launch import Sandbox, protections
from grader.sandbox.processes import kill_descendants

RUN_TIMEOUT = 30 * 60
ERROR_LOG = "grading-error.log"  # kept beside results.json when the grader itself failed

# The trusted pytest process starts through ``pytest_child`` (below).
_CHILD = "import grader.grading.run; grader.grading.run.pytest_child()"


def pytest_child() -> None:
    """Run pytest in this process, asking the kernel to kill it when its parent dies.

    A SIGKILLed grader must not leave graders running on (``PR_SET_PDEATHSIG``;
    the signal follows the parent *thread*, a grading thread that outlives the
    run). If the parent is already gone, pytest does not start at all.
    """
    import ctypes

    import pytest

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    expected = os.environ.get("HML_GRADER_PID")
    if expected and os.getppid() != int(expected):
        raise SystemExit(70)
    sys.argv[0] = "pytest"
    raise SystemExit(pytest.console_main())


class GradingCancelled(Exception):
    """The batch was stopped while this submission was being graded; it has no result."""


@dataclass
class Job:
    exercise: Exercise
    submission: Path
    name: str
    output_dir: Path
    learner: str | None = None  # who sent it (grade-course); defaults to the submission's name
    results_path: Path | None = None  # defaults to OUTPUT_DIR/NAME/results.json

    @property
    def results_file(self) -> Path:
        return self.results_path or self.output_dir / self.name / "results.json"

    @property
    def who(self) -> str:
        return self.learner or self.name


def submission_names(paths: list[Path]) -> list[str]:
    """File stem or directory name; where two would clash, the file's suffix, then parents' names."""
    names = [p.stem if p.is_file() else p.name for p in paths]
    files = [p.name for p in paths]
    names = [f if names.count(n) > 1 and files.count(f) == 1 and p.is_file() else n
             for p, n, f in zip(paths, names, files)]
    parents = [p.resolve().parent for p in paths]
    for _ in range(8):
        clashing = {n for n in names if names.count(n) > 1}
        if not clashing:
            return names
        for i, name in enumerate(names):
            if name in clashing and parents[i].name:
                names[i] = f"{parents[i].name}-{name}"
                parents[i] = parents[i].parent
    return [f"{n}-{i + 1}" for i, n in enumerate(names)]


def grade_one(exercise: Exercise, submission: Path, name: str, results_path: Path, *, course: Course,
              sandbox: Sandbox, cache_dir: Path | None = None, include_public: bool = True,
              include_hidden: bool = True, stop: threading.Event | None = None,
              pytest_args: Sequence[str] = (), refused: str | None = None,
              warm: Warm | None = None) -> GradeResult:
    """Grade one submission and write its ``results.json``; never raises for a bad submission.

    ``refused`` grades a submission that was refused before it got here (a cluster's
    coordinator packs submissions itself) as intake would have refused it.
    Raises ``GradingCancelled`` (and writes nothing) when ``stop`` is set while it runs. ``warm``: the warm
    processes (``grader/grading/warm.py``) to fork its workers and its trusted pytest process from; else they
    start as new processes.
    """
    started = time.monotonic()
    pools = warm.pools.addresses(exercise) if warm is not None else {}
    pytest_parent = warm.pytest_parent if warm is not None else None
    with tempfile.TemporaryDirectory(prefix="hml-grade-") as scratch:
        scratch = Path(scratch)
        config = GradingConfig(exercise=exercise.id, course_root=str(course.root), submission=name,
                               results_path=str(scratch / "results.json"), sandbox=sandbox.value,
                               cache_dir=str(Path(cache_dir).resolve()) if cache_dir else None,
                               pools={kind: address.to_dict() for kind, address in pools.items()},
                               imports=list(suite_needs(exercise).imports))
        try:
            if refused is not None:
                raise SubmissionRefused(refused)
            config.prepared = str(prepare(submission, exercise.file, scratch / "workspace").root)
        except SubmissionRefused as exc:
            config.refused = str(exc)
        config_path = scratch / "config.json"
        config_path.write_text(json.dumps(asdict(config)))
        tests = (exercise.public_tests if include_public else []) + (exercise.hidden_tests if include_hidden else [])
        log = scratch / "pytest.log"
        error = _run_pytest(config_path, tests, course.root, log, stop, pytest_args,
                            sorted({address.fd for address in pools.values()}), pytest_parent)
        discard(scratch / "workspace")
        if stop is not None and stop.is_set():
            raise GradingCancelled(name)
        # The plugin writes into our scratch directory; only a complete result reaches results_path.
        written = scratch / "results.json"
        error_log = results_path.parent / ERROR_LOG
        if written.is_file() and error is None:
            result = GradeResult.read(written)
            result.execution_time = time.monotonic() - started  # intake and start-up included
            result.write(results_path)
            error_log.unlink(missing_ok=True)
            return result
        if log.is_file():  # for the instructor: what went wrong, in full
            error_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, error_log)
    result = GradeResult(name, exercise.id, execution_time=time.monotonic() - started, refused=config.refused,
                         error=error or "the grader did not write results", sandboxed=sandbox.confines,
                         sandbox=protections(sandbox))
    result.write(results_path)
    return result


def _run_pytest(config_path: Path, tests: list[Path], root: Path, log: Path,
                stop: threading.Event | None = None, extra: Sequence[str] = (),
                pass_fds: Sequence[int] = (), pytest_parent: WarmPytest | None = None) -> str | None:
    """Run the trusted pytest process; return a description of what went wrong, if anything did."""
    args = ["-p", "grader.grading.plugin", "--hml-config", str(config_path), "-c", str(markers.PYTEST_INI),
            "--rootdir", str(root), "-q", "-p", "no:cacheprovider", "--assert=plain", "--import-mode=importlib",
            *extra, *map(str, tests)]
    # Plugins installed beside pytest (anyio's, say) are not loaded: grading needs none, and each costs
    # every submission its import.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HML_GRADER_PID=str(os.getpid()),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    deadline = time.monotonic() + RUN_TIMEOUT
    with log.open("wb") as out:
        # A session of its own: a Ctrl-C at the terminal reaches the grader, which
        # stops its pytest processes itself, rather than each of them half-finishing.
        process = None
        if pytest_parent is not None:
            try:
                process = pytest_parent.start(args, root, out.fileno(), env, pass_fds)
            except ParentGone:
                process = None  # a new interpreter, as without a parent
        if process is None:
            process = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=root, env=env, start_new_session=True,
                                       pass_fds=tuple(pass_fds))
        try:
            while True:
                try:
                    process.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if stop is not None and stop.is_set():
                    _kill(process)
                    return "cancelled"
                if time.monotonic() > deadline:
                    _kill(process)
                    return f"grading took longer than {RUN_TIMEOUT // 60} minutes and was stopped"
        except BaseException:
            _kill(process)
            raise
    if process.returncode in (0, 1):  # 1: some tests failed, which is what grading is for
        return None
    tail = log.read_text(errors="replace")[-2000:]
    return f"the test run failed (pytest exit code {process.returncode}):\n{tail}"


def _kill(process: "subprocess.Popen | Forked") -> None:
    """Stop a trusted pytest process and everything below it.

    Stopped first, so its subtree holds still: without a PID namespace (Landlock)
    what its workers left is found below it, and would outlive it otherwise.
    """
    try:
        os.kill(process.pid, signal.SIGSTOP)
        kill_descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def grade_many(jobs: list[Job], *, course: Course, sandbox: Sandbox, workers: int = 1,
               cache_dir: Path | None = None,
               on_done: Callable[[Job, GradeResult], None] | None = None,
               on_start: Callable[[Job], None] | None = None,
               cache_dirs: Callable[[Job], Path | None] | None = None,
               stop: threading.Event | None = None,
               pytest_args: Sequence[str] = (),
               warm_first: Collection[str] = (), warm: Warm | None = None) -> list[GradeResult]:
    """Grade ``jobs`` with up to ``workers`` running at once; results come back in job order.

    ``on_done`` runs in the calling thread as each submission finishes, so a
    caller can record it at once. ``cache_dirs`` picks a batch cache per job
    (else ``cache_dir`` for all). For the exercises in ``warm_first``, the
    first job fills the batch cache before any other job of that exercise
    starts, so shared references are computed once per batch, not once per
    worker. On Ctrl-C (or ``stop``), pending jobs are dropped, running ones
    killed, and ``KeyboardInterrupt`` is raised after every finished result
    has been handed to ``on_done``. ``warm``: the batch's warm processes, if its caller started them (and
    closes them); else the batch starts its own and closes them however it ends.
    """
    stop = stop or threading.Event()
    owned = warm is None
    if warm is None:
        warm = Warm(course, sandbox, imports=trusted_imports(job.exercise for job in jobs))
    left = Counter(job.exercise.id for job in jobs)  # an exercise's pools go once its last submission is done
    results: dict[int, GradeResult] = {}
    warmed: dict[str, threading.Event] = {}
    warmers: set[int] = set()
    for job in jobs:
        if job.exercise.id in warm_first and job.exercise.id not in warmed:
            warmed[job.exercise.id] = threading.Event()
            warmers.add(id(job))

    def work(job: Job) -> GradeResult | None:
        ready = warmed.get(job.exercise.id)
        if id(job) in warmers:
            try:
                return _work(job)
            finally:
                ready.set()
        while ready is not None and not ready.wait(0.2):
            if stop.is_set():
                return None
        return _work(job)

    def _work(job: Job) -> GradeResult | None:
        if stop.is_set():
            return None
        if on_start:
            on_start(job)
        cache = cache_dirs(job) if cache_dirs else cache_dir
        try:
            return grade_one(job.exercise, job.submission, job.name, job.results_file, course=course,
                             sandbox=sandbox, cache_dir=cache, stop=stop, pytest_args=pytest_args,
                             warm=warm)
        except GradingCancelled:
            return None
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
            result = GradeResult(job.name, job.exercise.id, error=f"internal error: {type(exc).__name__}: {exc}",
                                 sandboxed=sandbox.confines, sandbox=protections(sandbox))
            result.write(job.results_file)
            return result
        finally:
            with lock:
                left[job.exercise.id] -= 1
                last = left[job.exercise.id] == 0
            if last:
                warm.pools.finished(job.exercise)

    with warm if owned else nullcontext():
        lock = threading.Lock()
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hml-grade")
        futures: dict[Future, int] = {}
        try:
            futures = {pool.submit(work, job): i for i, job in enumerate(jobs)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.get):
                    index = futures[future]
                    result = future.result()
                    if result is None:
                        continue
                    results[index] = result
                    if on_done:
                        on_done(jobs[index], result)
                if stop.is_set() and pending:
                    raise KeyboardInterrupt
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)
            # Whatever finished while stopping is still a result worth keeping.
            for future, index in futures.items():
                if index not in results and future.done() and not future.cancelled() and future.exception() is None:
                    result = future.result()
                    if result is not None:
                        results[index] = result
                        if on_done:
                            on_done(jobs[index], result)
            raise
        pool.shutdown(wait=True)
        return [results[i] for i in range(len(jobs)) if i in results]
