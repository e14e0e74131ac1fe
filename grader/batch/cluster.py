"""Grading on many machines: Celery workers over a Redis broker.

The coordinator (``hml grade-course --engine celery``) plans, as for a local
batch, and is the only writer of results and the gradebook. Each submission
to grade becomes one task that carries data only, with Celery's JSON
serializer (pickle is refused): the exercise id, the suite hash the
coordinator planned with, and the submission's bytes as intake would read
them, bounded. A worker (``hml worker``) grades it with the same engine,
sandbox and per-node reference cache as ``hml grade``, and answers with the
result as data.

Nothing is lost: tasks are acknowledged only once graded (``acks_late``), a
worker lost mid-task gives its task back (``reject_on_worker_lost``; with the
Redis transport an unacknowledged task returns after the visibility timeout),
each worker takes one task at a time (prefetch 1), and every task has a time
limit above the grader's own. A task graded twice is recorded once: the
coordinator keeps one result per submission.
"""
from __future__ import annotations

import base64
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable

from celery import Celery

from grader.errors import GraderError
from grader.learner_text import shorten

if TYPE_CHECKING:  # pragma: no cover
    from grader.batch.plan import Planned
    from grader.course.model import Course, Exercise
    from grader.grading.run import Job
    from grader.record.results import GradeResult
    from grader.sandbox.launch import Sandbox

TASK = "hml.grade"
PAYLOAD_VERSION = 1
MAX_TASK_BYTES = 16 * 1024 * 1024  # a submission's bytes in one task; intake keeps far less than this
QUEUES = ("light", "tensorflow")
TIME_LIMIT_MARGIN = 120  # seconds above the grader's own limit for one grading (grader.grading.run.RUN_TIMEOUT)

SETTINGS = dict(
    task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
    task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
    task_track_started=True, task_default_queue="light", result_expires=7 * 24 * 3600,
    broker_connection_retry_on_startup=False, worker_hijack_root_logger=False, worker_send_task_events=False,
)


class ClusterError(GraderError, RuntimeError):
    """The broker cannot be reached, or a worker cannot start; the message says what to do."""


class MalformedTask(ValueError):
    """A task that is not one this coordinator would send."""


def make_app() -> Celery:
    """An app with the project's settings (each coordinator run makes its own, so brokers never mix)."""
    made = Celery("hml")
    made.conf.update(SETTINGS)
    return made


# The worker's app: ``hml worker`` configures it; its pool's processes inherit it.
app = make_app()


def configure(app: Celery, broker: str, visibility_timeout: int | None = None) -> Celery:
    """Point ``app`` at ``broker`` (a redis:// URL), which also keeps the results."""
    from grader.grading.run import RUN_TIMEOUT

    if not broker.startswith(("redis://", "rediss://", "unix://")):
        raise ClusterError(f"the broker must be a Redis URL (redis://HOST:PORT/N), not {broker!r}")
    app.conf.broker_url = broker
    app.conf.result_backend = broker
    # A task unacknowledged this long (its worker died) goes back to the queue; longer than any grading.
    timeout = visibility_timeout or RUN_TIMEOUT + 2 * TIME_LIMIT_MARGIN
    # Workers sweep for such tasks every interval * throttle seconds: well within the timeout.
    interval = max(1, min(10, timeout // 10))
    app.conf.broker_transport_options = {"visibility_timeout": timeout, "unacked_restore_interval": interval,
                                         "unacked_restore_throttle": 1}
    app.conf.result_backend_transport_options = {"visibility_timeout": timeout}
    return app


def check_broker(broker: str) -> None:
    """Fail at once, and clearly, when the broker is not there (Celery would otherwise retry for ever)."""
    probe = configure(make_app(), broker)
    try:
        with probe.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=3)
    except Exception as exc:  # noqa: BLE001 - kombu raises several kinds
        raise ClusterError(f"cannot reach the broker at {broker} ({type(exc).__name__}: {exc}); "
                           "start Redis there, or check the URL") from None


def queue_for(exercise: "Exercise") -> str:
    """TensorFlow exercises and light ones go to different queues, so a node can be sized for either."""
    return "tensorflow" if exercise.needs_tensorflow else "light"


# --------------------------------------------------------------------------- the task, as data

@dataclass
class GradingTask:
    key: str                      # the coordinator's name for this submission (one result per key)
    exercise: str
    suite_hash: str
    name: str                     # the submission's name in results
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> bytes (one entry for a file)
    folder: bool = False          # whether the submission is a folder of ``files``
    refused: str | None = None    # refused while packing: graded as intake would

    def to_payload(self) -> dict:
        return {"version": PAYLOAD_VERSION, "key": self.key, "exercise": self.exercise,
                "suite_hash": self.suite_hash, "name": self.name, "folder": self.folder, "refused": self.refused,
                "files": {path: base64.b64encode(data).decode("ascii") for path, data in self.files.items()}}

    @classmethod
    def from_payload(cls, payload: object) -> "GradingTask":
        if not isinstance(payload, dict) or payload.get("version") != PAYLOAD_VERSION:
            raise MalformedTask("not an hml grading task (no payload of version 1)")
        for key in ("key", "exercise", "suite_hash", "name"):
            if not isinstance(payload.get(key), str) or not payload[key] or len(payload[key]) > 500:
                raise MalformedTask(f"the task's {key!r} is missing or not a short string")
        files, total = {}, 0
        raw = payload.get("files")
        if not isinstance(raw, dict) or len(raw) > 500:
            raise MalformedTask("the task's 'files' is not a mapping of at most 500 files")
        for path, text in raw.items():
            parts = PurePosixPath(str(path)).parts
            if not isinstance(text, str) or not parts or path.startswith("/") or ".." in parts:
                raise MalformedTask(f"the task's file {shorten(str(path), 80)!r} is not a relative path with text")
            total += len(text) * 3 // 4
            if total > MAX_TASK_BYTES:
                raise MalformedTask(f"the task's files are larger than {MAX_TASK_BYTES} bytes")
            try:
                files[str(path)] = base64.b64decode(text, validate=True)
            except ValueError:
                raise MalformedTask(f"the task's file {shorten(str(path), 80)!r} is not base64") from None
        refused = payload.get("refused")
        if refused is not None and not isinstance(refused, str):
            raise MalformedTask("the task's 'refused' is not a string")
        if not files and refused is None:
            raise MalformedTask("the task carries no submission")
        return cls(payload["key"], payload["exercise"], payload["suite_hash"], payload["name"], files,
                   bool(payload.get("folder")), refused)


def pack(item: "Planned", key: str) -> GradingTask:
    """A planned job as a task: the submission's bytes as intake would read them."""
    from grader.intake.prepare import SubmissionRefused, submission_files

    job = item.job
    task = GradingTask(key, job.exercise.id, item.suite_hash, job.name, folder=job.submission.is_dir())
    try:
        task.files = submission_files(job.submission)
    except SubmissionRefused as exc:
        task.refused = str(exc)
    else:
        if sum(len(d) for d in task.files.values()) > MAX_TASK_BYTES:
            task.files, task.refused = {}, f"the submission is larger than {MAX_TASK_BYTES // 1024 // 1024} MiB"
    return task


# --------------------------------------------------------------------------- the worker's side

@app.task(name=TASK, bind=True)
def grade_task(self, payload: dict) -> dict:
    """Celery's entry point; ``handle`` does the work."""
    return handle(payload)


def handle(payload: object, course: "Course | None" = None) -> dict:
    """Grade one task: ``{"status": "graded", "key", "result"}`` or ``{"status": "rejected", "key", "reason"}``."""
    from grader.batch.digests import suite_hash
    from grader.course.model import Course, UnknownExercise
    from grader.grading import batch_cache
    from grader.grading.run import grade_one

    key = payload.get("key") if isinstance(payload, dict) and isinstance(payload.get("key"), str) else None
    try:
        task = GradingTask.from_payload(payload)
    except MalformedTask as exc:
        return {"status": "rejected", "key": key, "reason": f"malformed task: {exc}"}
    course = course or Course()
    try:
        exercise = course.exercise(task.exercise)
    except UnknownExercise:
        return {"status": "rejected", "key": key, "reason": f"this worker's course has no exercise {task.exercise!r}"}
    mine = suite_hash(exercise, course)
    if mine != task.suite_hash:
        return {"status": "rejected", "key": key,
                "reason": f"this worker's course has other tests for {task.exercise} (suite {mine[:12]}, the "
                          f"coordinator's is {task.suite_hash[:12]}): update the worker's checkout"}
    cache_root = Path(os.environ.get("HML_WORKER_CACHE") or Path(tempfile.gettempdir()) / "hml-worker-cache")
    with tempfile.TemporaryDirectory(prefix="hml-task-") as scratch:
        submission = _materialise(task, Path(scratch) / "in")
        result = grade_one(exercise, submission, task.name, Path(scratch) / "results.json", course=course,
                           sandbox=node_sandbox(), cache_dir=batch_cache.folder(cache_root, exercise, mine),
                           refused=task.refused)
    return {"status": "graded", "key": key, "result": result.to_gradescope(private=True)}


def node_sandbox() -> "Sandbox":
    """The sandbox this node grades in: chosen once by ``hml worker --sandbox`` and handed to the pool's
    processes in ``HML_SANDBOX``."""
    from grader.sandbox.launch import choose

    return choose(os.environ.get("HML_SANDBOX", "auto"))


def _materialise(task: GradingTask, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for relative, data in task.files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if task.folder or not task.files:
        return folder
    return folder / next(iter(task.files))


# --------------------------------------------------------------------------- the coordinator's side

@dataclass
class CeleryEngine:
    """Grading on Celery workers: the coordinator sends tasks and records each result as it arrives."""

    broker: str
    poll_seconds: float = 0.2
    visibility_timeout: int | None = None
    problems: list[str] = field(default_factory=list)  # tasks a worker refused, with its reason

    def run(self, items: list["Planned"], *, course: "Course", on_start: Callable[["Job"], None],
            on_done: Callable[["Job", "GradeResult"], None]) -> None:
        from grader.grading.run import RUN_TIMEOUT

        check_broker(self.broker)
        client = configure(make_app(), self.broker, self.visibility_timeout)
        pending = {}
        for index, item in enumerate(items):
            key = f"{item.job.who}/{item.job.exercise.id}/{item.content_hash[:16]}/{index}"
            sent = client.send_task(TASK, args=[pack(item, key).to_payload()], queue=queue_for(item.job.exercise),
                                 time_limit=RUN_TIMEOUT + TIME_LIMIT_MARGIN,
                                 soft_time_limit=RUN_TIMEOUT + TIME_LIMIT_MARGIN // 2)
            pending[sent.id] = (item, sent)
        started: set[str] = set()
        try:
            while pending:
                for task_id, (item, sent) in list(pending.items()):
                    state = sent.state
                    if state == "STARTED" and task_id not in started:
                        started.add(task_id)
                        on_start(item.job)
                    if state not in ("SUCCESS", "FAILURE", "REVOKED"):
                        continue
                    del pending[task_id]
                    if task_id not in started:
                        on_start(item.job)
                    answer = sent.get(propagate=False, disable_sync_subtasks=False)
                    result = self._result(item, answer, state)
                    if result is not None:
                        result.write(item.job.results_file)
                        on_done(item.job, result)
                if pending:
                    time.sleep(self.poll_seconds)
        except BaseException:
            # Ctrl-C: what finished is recorded; what is still queued is withdrawn (a rerun sends it again).
            for _, sent in pending.values():
                try:
                    sent.revoke()
                except Exception:  # noqa: BLE001 - the broker may be the reason we stopped
                    pass
            raise

    def _result(self, item: "Planned", answer: object, state: str) -> "GradeResult | None":
        from grader.record.results import GradeResult

        job = item.job
        if state == "SUCCESS" and isinstance(answer, dict) and answer.get("status") == "graded":
            result = GradeResult.from_gradescope(answer.get("result") or {})
            result.submission = job.name
            return result
        if state == "SUCCESS" and isinstance(answer, dict) and answer.get("status") == "rejected":
            self.problems.append(f"{job.who}/{job.exercise.id}: a worker refused the task: {answer.get('reason')}")
            return None
        reason = f"{type(answer).__name__}: {answer}" if isinstance(answer, BaseException) else state.lower()
        return GradeResult(job.name, job.exercise.id, error=f"the worker failed on this submission ({reason})")
