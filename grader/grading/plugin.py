"""The pytest plugin that turns an exercise's tests into a grading run.

Loaded with ``-p grader.grading.plugin --hml-config FILE``. It provides the
``learner``, ``evaluator``, ``exercise`` and ``batch_cache`` fixtures, reads
``points`` and ``visibility`` markers, and writes the results. What a
learner may see of each test is decided here, and only here.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from grader import lean_imports
from grader.course import markers
from grader.course.model import Course
from grader.grading.batch_cache import BatchCache
from grader.grading.config import WORKER_KINDS, GradingConfig, worker_settings
from grader.errors import (
    GraderError, LearnerError, ModuleImportFailed, WorkerCrashed, WorkerProtocolError, WorkerTimeout,
)
from grader.grading.explain import Source, rewrite_frames
from grader.intake.prepare import PreparedSubmission, SubmissionRefused
from grader.record.kinds import Kind, NotAttempted, TimedOut
from grader.record.results import VISIBILITIES, GradeResult, TestResult
from grader.sandbox.launch import Sandbox, protections
from grader.sandbox.processes import become_subreaper, kill_descendants, make_non_dumpable
from grader.sandbox.pool import PoolAddress
from grader.sandbox.proxy import Learner, LeftOnHost, WorkerSpec


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--hml-config", help="grading configuration written by grader.grading.run")


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    path = config.getoption("--hml-config")
    if path:
        config.pluginmanager.register(Grading(GradingConfig.read(path)), "hml-grading")


class _Refused:
    """Stands in for the learner when the submission was refused: every use fails with the reason."""

    def __init__(self, reason: str):
        self._reason = reason

    def __getattr__(self, name: str):
        raise SubmissionRefused(f"your submission was refused: {self._reason}")


class Grading:
    def __init__(self, config: GradingConfig):
        self.config = config
        self.course = Course(Path(config.course_root))
        self._exercise = self.course.exercise(config.exercise)
        self._sandbox = Sandbox(config.sandbox)
        if self._sandbox is Sandbox.LANDLOCK:
            # Without namespaces a worker could otherwise reach this process through ptrace or /proc;
            # and whatever a worker leaves (even after undoing its own subreaper flag) is handed here.
            make_non_dumpable()
            become_subreaper()
        self.results: list[TestResult] = []
        self.metrics: dict[str, float] = {}
        self._workers: dict[str, Learner] = {}
        self.started = time.monotonic()
        self._cases: dict[str, int] = {}
        self._setup_time: dict[str, float] = {}

    # fixtures -----------------------------------------------------------------
    @pytest.fixture(scope="session")
    def exercise(self):
        return self._exercise

    @pytest.fixture(scope="session")
    def learner(self):
        if self.config.prepared is None:
            yield _Refused(self.config.refused or "it could not be read")
            return
        yield self._worker("learner")

    @pytest.fixture(scope="session")
    def evaluator(self):
        yield self._worker("evaluator")

    @pytest.fixture(scope="session")
    def pipeline_runner(self):
        """A worker that runs compiled KFP packages and never imports the learner's module."""
        yield self._worker("pipeline_runner")

    def _worker(self, kind: str) -> Learner:
        """The one worker of ``kind`` for this submission (``learner``, ``evaluator``, ``pipeline_runner``)."""
        if kind not in self._workers:
            self._workers[kind] = Learner(self._spec(kind))
        return self._workers[kind]

    def _spec(self, kind: str) -> WorkerSpec:
        exercise = self._exercise
        preload, limits, runs_learner_code = worker_settings(exercise, kind)
        pool = PoolAddress(**self.config.pools[kind]) if kind in (self.config.pools or {}) else None
        if kind == "learner":
            prepared = PreparedSubmission.load(Path(self.config.prepared))
            return WorkerSpec(
                module_dir=prepared.module_dir, module_name=exercise.module_name, preload=preload,
                sandbox=self._sandbox, limits=limits, call_timeout=exercise.call_timeout,
                start_timeout=exercise.start_timeout, locate=prepared.locate if prepared.cells else None,
                own_identity=not exercise.needs_tensorflow, pool=pool)
        return WorkerSpec(preload=preload, sandbox=self._sandbox, limits=limits,
                          call_timeout=max(exercise.call_timeout, 120), runs_learner_code=runs_learner_code,
                          pool=pool)

    @pytest.fixture
    def metric(self, request):
        """``metric(name, value)``: publish a number about the submission (a leaderboard's, say).

        Public tests only: a number a hidden test measured on the learner's work is the
        learner's to tune, and could carry a hidden input out.
        """
        if self._visibility(request.node) != "visible":
            raise pytest.UsageError(f"{request.node.nodeid}: only public tests may publish metrics")

        def record(name: str, value: float) -> None:
            self.metrics[str(name)] = float(value)

        return record

    @pytest.fixture(scope="session")
    def batch_cache(self):
        return BatchCache(Path(self.config.cache_dir) if self.config.cache_dir else None, self._exercise.id)

    # collection ---------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Workers with a warm pool start before the tests are collected: the batch started a pool only for
        the kinds its tests name, and a fork's set-up then overlaps the collection. What the checks import
        and this process has not (a warm parent may have) is imported meanwhile, in the background."""
        for kind in self.config.pools or {}:
            if kind != "learner" or self.config.prepared is not None:
                self._worker(kind).start()
        missing = [name for name in self.config.imports if name not in sys.modules]
        if missing:  # a check that needs one sooner waits for it (the import lock), as it would have anyway
            threading.Thread(target=_import_all, args=(missing,), daemon=True, name="hml-imports").start()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start every worker the tests will need at once: their imports overlap instead of adding up."""
        needed = set().union(*(getattr(item, "fixturenames", ()) for item in session.items))
        for kind in WORKER_KINDS:
            if kind in needed and (kind != "learner" or self.config.prepared is not None):
                self._worker(kind).start()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._close_workers()  # when the session ended before its finish (a usage error)
        if self._sandbox is Sandbox.LANDLOCK:
            kill_descendants(os.getpid())  # nothing a learner started outlives the grading of their submission

    def _close_workers(self) -> list[str]:
        """Close every worker, each whatever the others did; what one left on the host, in the grader's words."""
        left = []
        for worker in self._workers.values():
            try:
                worker.close()
            except LeftOnHost as exc:
                left.append(str(exc))
        self._workers.clear()
        return left

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        hidden = {}
        for item in items:
            if item.get_closest_marker("points") is None:
                raise pytest.UsageError(f"{item.nodeid} has no points marker")
            visibility = self._visibility(item)
            if visibility not in VISIBILITIES:
                raise pytest.UsageError(f"{item.nodeid}: unknown visibility {visibility!r}")
            hidden[item] = visibility != "visible"
        # Visible tests first (stable), whatever order the files came in: what they show (the learner's
        # messages, their durations) comes from a worker that has seen no hidden input yet.
        items.sort(key=hidden.__getitem__)

    def _visibility(self, item: pytest.Item) -> str:
        marker = item.get_closest_marker("visibility")
        if marker is not None:
            return marker.args[0]
        hidden_root = self.course.solutions_dir.resolve()
        return "hidden" if Path(str(item.path)).resolve().is_relative_to(hidden_root) else "visible"

    # reporting ----------------------------------------------------------------
    def _learner_frames(self, text: str) -> str:
        """Traceback lines name the learner's own file (and notebook cell), not the sandbox's path."""
        if self.config.prepared is None:
            return text
        prepared = PreparedSubmission.load(Path(self.config.prepared))
        shown = f"{self._exercise.module_name}.ipynb" if prepared.cells else self._exercise.file
        return rewrite_frames(text, Source(Path(shown), "", prepared.cells), self._exercise.file)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.when == "setup" and report.passed:
            # Fixture work (a compile, a local run) belongs to the test that needed it.
            self._setup_time[item.nodeid] = report.duration
        elif report.when == "call" or report.when == "setup":
            self.results.append(self._result(item, call, report))

    def _result(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> TestResult:
        points = float(item.get_closest_marker("points").args[0])
        visibility = self._visibility(item)
        hidden = visibility != "visible"
        passed = report.passed
        output = ""
        kind = Kind.PASSED if passed else Kind.FAILED
        if report.skipped:
            passed = False
            output = "This test was skipped."
            kind = Kind.SKIPPED
        elif not passed and call.excinfo is not None:
            output = feedback(call.excinfo.value, hidden, self._learner_frames)
            kind = kind_of(call.excinfo.value)
        return TestResult(
            name=self._name(item, hidden), nodeid=self._nodeid(item, hidden),
            score=points if passed else 0.0, max_score=points,
            status="passed" if passed else "failed", visibility=visibility, output=output,
            duration=report.duration + self._setup_time.pop(item.nodeid, 0.0), kind=kind,
        )

    def _name(self, item: pytest.Item, hidden: bool) -> str:
        doc = (getattr(item.function, "__doc__", None) or "").strip().splitlines()
        base = doc[0].strip() if doc else item.originalname.removeprefix("test_").replace("_", " ")
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            return base
        if hidden:
            # A parameter id may spell out a hidden input: number the cases instead.
            number = self._cases.get(item.originalname, 0) + 1
            self._cases[item.originalname] = number
            return f"{base} (case {number})"
        return f"{base} [{callspec.id}]"

    def _nodeid(self, item: pytest.Item, hidden: bool) -> str:
        if not hidden:
            return item.nodeid
        digest = hashlib.sha256(item.nodeid.encode()).hexdigest()[:8]
        return f"hidden::{item.originalname}::{digest}"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Workers close before the result is written: a scratch or IPC object that stays on the host is the
        # grader's failure, shown to the instructor on the result, never silence.
        left = self._close_workers()
        result = GradeResult(
            submission=self.config.submission, exercise=self._exercise.id, tests=self.results,
            execution_time=time.monotonic() - self.started, refused=self.config.refused,
            error=("the grader could not clean up after this submission: " + "; ".join(left)) if left else None,
            sandboxed=self._sandbox.confines, sandbox=protections(self._sandbox), metrics=dict(self.metrics),
        )
        result.write(Path(self.config.results_path), private=True)  # read back by the grader, not published


_HIDDEN_WORKER_FAILURES = {
    WorkerCrashed: "The process running your code stopped during this test (it crashed, was killed, or exited).",
    WorkerTimeout: "Your code did not finish in time during this test.",
    WorkerProtocolError: "Your code sent back something that is not plain data during this test.",
    # The message quotes the learner's exception; the public tests show it in full.
    ModuleImportFailed: "Your module could not be imported, so this test could not run; "
                        "the public tests (hml check) show why.",
}


_KINDS: list[tuple[type, Kind]] = [  # first match wins: subclasses before their bases
    (TimedOut, Kind.TIMEOUT),
    (WorkerTimeout, Kind.TIMEOUT),
    (WorkerCrashed, Kind.CRASHED),
    (SubmissionRefused, Kind.REFUSED),
    (LearnerError, Kind.ERROR),
    (ModuleImportFailed, Kind.ERROR),
    (WorkerProtocolError, Kind.ERROR),
    (AssertionError, Kind.FAILED),
    (GraderError, Kind.GRADER_ERROR),
]


def _import_all(names: list[str]) -> None:
    for name in names:
        lean_imports.import_module(name)


def kind_of(exc: BaseException) -> Kind:
    """How a test that raised ``exc`` ended; anything else the test raised counts as an error."""
    if _still_a_todo(exc):
        return Kind.NOT_ATTEMPTED
    return next((kind for cls, kind in _KINDS if isinstance(exc, cls)), Kind.ERROR)


def _still_a_todo(exc: BaseException) -> bool:
    """The learner's own NotImplementedError (the starter's ``raise``), or a check that found one, raised or
    chained: the part is not attempted yet. Faking it changes only the word the learner sees: such a test
    scores nothing either way. The grader's own NotImplementedError is not the learner's TODO."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, NotAttempted) or (isinstance(seen, LearnerError) and isinstance(seen, NotImplementedError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def feedback(exc: BaseException, hidden: bool, frames: Callable[[str], str] = str) -> str:
    """What a learner is told about a failed test; for hidden tests, nothing of the test itself.

    ``frames`` rewrites the learner's traceback lines into their own terms (file name, notebook cell).
    """
    if isinstance(exc, AssertionError) and not isinstance(exc, LearnerError):
        return str(exc) or "This check failed."
    if isinstance(exc, LearnerError):
        if hidden:
            return f"Your function `{exc.function}` raised {exc.type_name}." if exc.function else \
                f"Your code raised {exc.type_name}."
        return frames(f"{exc}\n{exc.traceback}".strip())
    if hidden and isinstance(exc, tuple(_HIDDEN_WORKER_FAILURES)):
        # Exit codes and malformed answers are the learner's to choose: they could carry hidden inputs.
        return _HIDDEN_WORKER_FAILURES[type(exc)]
    if isinstance(exc, (GraderError, SubmissionRefused, ModuleImportFailed)):
        return str(exc)
    if hidden:
        return f"The test could not complete ({type(exc).__name__})."
    return f"{type(exc).__name__}: {exc}"
