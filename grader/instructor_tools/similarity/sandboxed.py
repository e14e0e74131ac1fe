"""The two things ``hml similarity`` needs a sandbox for, and nothing else: compiling each learner's
pipeline (that runs the learner's module) and reading flatbuffers (a native parser's work).

Both run in sandboxed workers (``grader.sandbox.proxy``), as in grading: the learner's worker
compiles with kfp's own compiler (``kfp.compile_package``) and sends the package back as bytes;
evaluators, which hold no learner code, compile the course's reference pipeline and parse
flatbuffers (``tflite.fingerprint``), answering plain strings: one submission's files never share an
evaluator with another's, so a crafted file can cost only its own submission its model signal. A worker that fails, hangs or
crashes costs its submission that signal, with a note in the grader's words.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from grader.errors import GraderError
from grader.sandbox.launch import Limits
from grader.sandbox.proxy import Learner, WorkerSpec

if TYPE_CHECKING:  # pragma: no cover
    from grader.course.model import Exercise
    from grader.instructor_tools.similarity.submissions import Submission
    from grader.sandbox.launch import Sandbox

PACKAGE_FILE = "similarity-package.yaml"
KFP_PRELOAD = ["kfp", "kfp.dsl", "kfp.compiler"]
FLATBUFFER_PRELOAD = ["ai_edge_litert.schema_py_generated"]


@dataclass(frozen=True)
class Compiled:
    """One learner's compiled package as bytes, or why there is none (the grader's words only)."""

    package: bytes | None
    problem: str | None = None


def compile_learner_pipelines(submissions: list["Submission"], pipeline: str, sandbox: "Sandbox",
                              jobs: int) -> list[Compiled]:
    """Each submission's pipeline object compiled in a sandboxed worker of its own, ``jobs`` at a time."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda s: _compile_one(s, pipeline, sandbox), submissions))


def _compile_one(submission: "Submission", pipeline: str, sandbox: "Sandbox") -> Compiled:
    exercise = submission.exercise
    learner = Learner(WorkerSpec(
        module_dir=submission.prepared.module_dir, module_name=exercise.module_name, preload=list(exercise.preload),
        sandbox=sandbox, limits=Limits(memory_mb=exercise.memory_mb), call_timeout=exercise.call_timeout,
        start_timeout=exercise.start_timeout, own_identity=not exercise.needs_tensorflow))
    try:
        result = learner.recipe("kfp.compile_package", pipeline, PACKAGE_FILE)
        if not isinstance(result, dict) or not result.get("ok"):
            return Compiled(None, f"{pipeline} did not compile")
        return Compiled(learner.read_bytes(PACKAGE_FILE))
    except GraderError as exc:
        # The class name only: the message of an import failure carries the learner's own text.
        return Compiled(None, f"{pipeline} could not be compiled ({type(exc).__name__})")
    finally:
        try:
            learner.close()
        except GraderError:
            pass


def _evaluator(sandbox: "Sandbox", preload: list[str]) -> Learner:
    """A sandboxed worker that holds no learner code."""
    return Learner(WorkerSpec(preload=list(preload), sandbox=sandbox, limits=Limits(memory_mb=4096),
                              call_timeout=120))


@contextmanager
def evaluator(sandbox: "Sandbox", preload: list[str]) -> Iterator[Learner]:
    """An evaluator for the course's own artifacts (the reference pipeline): no learner's file reaches it."""
    worker = _evaluator(sandbox, preload)
    try:
        yield worker
    finally:
        _close(worker)


def compile_course_pipeline(exercise: "Exercise", pipeline: str, sandbox: "Sandbox") -> list[bytes]:
    """The reference solution's package (and the starter's, when it compiles): the pipeline boilerplate."""
    found = []
    with evaluator(sandbox, KFP_PRELOAD) as worker:
        for path in (exercise.reference, exercise.starter):
            if not path.is_file():
                continue
            try:
                found.append(worker.recipe("pipelines.compile_source", path.read_text(encoding="utf-8"), pipeline))
            except GraderError:
                continue  # a starter is not meant to compile
    return found


FINGERPRINT_TIMEOUT = 60  # seconds for one flatbuffer; ``tflite.fingerprint`` is bounded and takes well under one


def fingerprint_models(groups: list[list[bytes]], sandbox: "Sandbox", jobs: int = 1) -> list[list[dict]]:
    """The evaluator's ``tflite.fingerprint`` of each flatbuffer, group by group (one group: one submission's
    files, or the course's own); ``{"ok": False, ...}`` for one that could not be read.

    Every group has evaluators of its own, never shared with another group: a file that hangs or crashes
    its evaluator uses up that evaluator's budget of timeouts (``Learner.MAX_TIMEOUTS``), and only its own
    submission loses its model signal, with the note naming only that submission. After a failure the
    group's next file gets a fresh evaluator too, so one crafted file cannot hide a submission's others.
    """
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda files: _fingerprint_group(files, sandbox), groups))


def _fingerprint_group(files: list[bytes], sandbox: "Sandbox") -> list[dict]:
    answers: list[dict] = []
    worker: Learner | None = None
    try:
        for content in files:
            if worker is None:
                worker = _evaluator(sandbox, FLATBUFFER_PRELOAD)
            try:
                answer = worker.recipe("tflite.fingerprint", content, timeout=FINGERPRINT_TIMEOUT)
            except GraderError as exc:  # hung or crashed on this file: the next file gets a fresh evaluator
                answer = {"ok": False, "error": type(exc).__name__, "ops": [], "weights": []}
                _close(worker)
                worker = None
            answers.append(answer if isinstance(answer, dict) else {"ok": False, "error": "no answer"})
    finally:
        if worker is not None:
            _close(worker)
    return answers


def _close(worker: Learner) -> None:
    try:
        worker.close()
    except GraderError:
        pass
