"""Grading on many machines: Celery workers over a Redis broker.

The coordinator (``hml grade-course --engine celery``) plans, as for a local
batch, and is the only writer of results and the gradebook. Each submission
to grade becomes one task that carries data only, with Celery's JSON
serializer (pickle is refused): the exercise id, the suite hash the
coordinator planned with, and the submission's bytes as intake would read
them, bounded. A worker (``hml worker``) grades it with the same engine,
sandbox and per-node reference cache as ``hml grade``, and answers with the
result as data.

Whoever can write to the broker can queue a task or answer one, so tasks and
answers travel sealed with the cluster's key (``grader.batch.signing``): a
node grades only tasks the coordinator signed, and the coordinator records
only signed answers that name the task it sent, within the suite's points
(``grader.batch.answers``). Any other answer is an incident: reported, never
recorded, and the task is waited for (or sent again) as if it had not come.

Nothing is lost: tasks are acknowledged only once graded (``acks_late``), a
pool process lost mid-task gives its task back (``reject_on_worker_lost``),
each worker takes one task at a time (prefetch 1), and every task has a time
limit above the grader's own. A node lost whole is noticed by its lapsed
lease (``grader.batch.lease``) within a minute, and its task sent again; a
task graded twice is recorded once: the coordinator keeps one result per
submission.
"""
from __future__ import annotations

import base64
import functools
import os
import secrets
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, ContextManager

from celery import Celery

from grader.batch import lease
from grader.batch.answers import Answer, Expected, Refused, Status, graded, opened
from grader.batch.credentials import shown
from grader.batch.signing import BadSeal, ClusterKey, Purpose
from grader.errors import GraderError
from grader.learner_text import clean, shorten

if TYPE_CHECKING:  # pragma: no cover
    from grader.batch.plan import Planned
    from grader.course.model import Course, Exercise
    from grader.grading.run import Job
    from grader.grading.warm import Warm
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
        raise ClusterError(f"the broker must be a Redis URL (redis://HOST:PORT/N), not {shown(broker)!r}")
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
        raise ClusterError(f"cannot reach the broker at {shown(broker)} ({type(exc).__name__}: {exc}); "
                           "start Redis there, or check the URL and its password") from None


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

@functools.cache
def node_key() -> ClusterKey:
    """The cluster's key on this node: ``hml worker`` refuses to start without it; its pool inherits it."""
    return ClusterKey.from_environment()


@app.task(name=TASK, bind=True)
def grade_task(self, sealed: dict) -> dict:
    """Celery's entry point: the node holds the task's lease while ``handle`` grades it."""
    with lease.held(self.app, self.request.id):
        return handle(sealed, node_key(), node=self.request.hostname or "")


def handle(sealed: object, key: ClusterKey, course: "Course | None" = None, node: str = "") -> dict:
    """Grade one sealed task; the answer is sealed too. A task the cluster's key did not sign is not
    graded, and its refusal is not signed: no coordinator waits for it, and its names are not ours."""
    from grader.course.model import Course

    try:
        payload = key.open(Purpose.TASK, sealed)
    except BadSeal as exc:
        return {"status": Status.REJECTED.value, "reason": f"a task the coordinator did not sign: {exc}"}
    try:
        task = GradingTask.from_payload(payload)
    except MalformedTask as exc:
        return {"status": Status.REJECTED.value, "reason": f"malformed task: {exc}"}

    def answer(status: Status, result: dict | None = None, reason: str | None = None) -> dict:
        return Answer(task.key, task.name, task.exercise, task.suite_hash, node, status, result, reason).sealed(key)

    try:
        return answer(*_grade(task, course or Course()))
    except Exception as exc:  # noqa: BLE001 - the coordinator records the grader's failure, as a local batch does
        return answer(Status.FAILED, reason=f"{type(exc).__name__}: {clean(exc, 300)}")


def _grade(task: GradingTask, course: "Course") -> tuple[Status, dict | None, str | None]:
    from grader.batch.digests import suite_hash
    from grader.course.model import UnknownExercise
    from grader.grading import batch_cache
    from grader.grading.run import grade_one

    try:
        exercise = course.exercise(task.exercise)
    except UnknownExercise:
        return Status.REJECTED, None, f"this worker's course has no exercise {task.exercise!r}"
    mine = suite_hash(exercise, course)
    if mine != task.suite_hash:
        return (Status.REJECTED, None,
                f"this worker's course has other tests for {task.exercise} (suite {mine[:12]}, the "
                f"coordinator's is {task.suite_hash[:12]}): update the worker's checkout")
    cache_root = Path(os.environ.get("HML_WORKER_CACHE") or Path(tempfile.gettempdir()) / "hml-worker-cache")
    with tempfile.TemporaryDirectory(prefix="hml-task-") as scratch:
        submission = _materialise(task, Path(scratch) / "in")
        warm = _warm(node_sandbox(), course)
        result = grade_one(exercise, submission, task.name, Path(scratch) / "results.json", course=course,
                           sandbox=node_sandbox(), cache_dir=batch_cache.folder(cache_root, exercise, mine),
                           refused=task.refused, warm=warm)
    return Status.GRADED, result.to_gradescope(private=True), None


_WARM: dict = {}


def _warm(sandbox: "Sandbox", course: "Course") -> "Warm":
    """This worker process's warm pools (the two exercises it graded last) and pytest parent, kept across
    its tasks: a node pays each import once, not once per task. Started again with the worker (after an
    update of the checkout, as the worker itself is)."""
    from grader.grading.config import trusted_imports
    from grader.grading.warm import Warm

    if _WARM.get("pid") != os.getpid():  # a fork of the worker (Celery's prefork pool) starts its own
        _WARM.update(pid=os.getpid(), warm=Warm(course, sandbox, imports=trusted_imports(course.exercises()), keep=2))
    return _WARM["warm"]


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

READY = ("SUCCESS", "FAILURE", "REVOKED")


@dataclass
class Sent:
    """One submission out on the cluster: its sealed task, the attempts at it, and what was seen of them."""

    item: "Planned"
    expected: Expected
    task: dict
    attempts: list[str] = field(default_factory=list)  # Celery task ids, the live one last
    sent_at: float = 0.0             # when the live attempt was sent
    started: float | None = None     # when the live attempt was first seen started
    leased: bool = False             # whether a node's lease on the live attempt was seen
    node: str = ""                   # the node that said it started the live attempt, as far as it said
    announced: bool = False          # on_start called

    @property
    def who(self) -> str:
        return f"{self.item.job.who} · {self.item.job.exercise.id}"


@dataclass
class CeleryEngine:
    """Grading on Celery workers: the coordinator sends sealed tasks and records each answer it can trust
    as it arrives; a task whose node's lease lapsed, or whose answer was refused, is sent again as a new
    attempt, up to ``attempts`` in all."""

    broker: str
    key: ClusterKey
    poll_seconds: float = 0.2
    visibility_timeout: int | None = None
    lease_seconds: float = lease.SECONDS
    attempts: int = 3
    problems: list[str] = field(default_factory=list)  # tasks refused, lost or answered falsely, and why
    incidents: list[str] = field(default_factory=list)  # answers refused as not the cluster's (also in problems)

    def warmed(self, course: "Course", exercises: list["Exercise"], runs: int = 1) -> ContextManager[None]:
        return nullcontext()  # the nodes keep their own warm processes

    def run(self, items: list["Planned"], *, course: "Course", on_start: Callable[["Job"], None],
            on_done: Callable[["Job", "GradeResult"], None]) -> None:
        check_broker(self.broker)
        client = configure(make_app(), self.broker, self.visibility_timeout)
        points = _points(items)
        run_id = secrets.token_hex(8)  # a key of another run's task (and its answer, kept a week) never fits
        pending: dict[str, Sent] = {}
        for index, item in enumerate(items):
            job = item.job
            key = f"{run_id}/{job.who}/{job.exercise.id}/{item.content_hash[:16]}/{index}"
            expected = Expected(key, job.name, job.exercise.id, item.suite_hash, points[job.exercise.id])
            sent = Sent(item, expected, self.key.seal(Purpose.TASK, pack(item, key).to_payload()))
            self._send(client, sent)
            pending[key] = sent
        connection = client.connection_for_read()
        try:
            waiting = Queues(connection.default_channel)
            while pending:
                self._poll(client, pending, waiting, on_start, on_done)
                if pending:
                    time.sleep(self.poll_seconds)
        except BaseException:
            # Ctrl-C: what finished is recorded; what is still queued is withdrawn (a rerun sends it again).
            try:
                client.control.revoke([sent.attempts[-1] for sent in pending.values()])
            except Exception:  # noqa: BLE001 - the broker may be the reason we stopped
                pass
            raise
        finally:
            connection.release()

    def _send(self, client: Celery, sent: Sent) -> None:
        from grader.grading.run import RUN_TIMEOUT

        attempt = client.send_task(TASK, args=[sent.task], queue=queue_for(sent.item.job.exercise),
                                   time_limit=RUN_TIMEOUT + TIME_LIMIT_MARGIN,
                                   soft_time_limit=RUN_TIMEOUT + TIME_LIMIT_MARGIN // 2)
        sent.attempts.append(attempt.id)
        sent.sent_at, sent.started, sent.leased, sent.node = time.monotonic(), None, False, ""

    def _poll(self, client: Celery, pending: dict[str, Sent], waiting: "Queues", on_start, on_done) -> None:
        """One look at every live attempt: its state in the result backend (one MGET), its lease, and,
        for attempts no node has started, whether their queue has run dry."""
        backend = client.backend
        order = list(pending.values())
        ids = [sent.attempts[-1] for sent in order]
        raws = backend.mget([backend.get_key_for_task(task_id) for task_id in ids])
        leases = lease.alive(client, ids)
        now = time.monotonic()
        for sent, task_id, raw in zip(order, ids, raws):
            meta = _decoded(backend, raw)
            state = meta.get("status") if meta else None
            if state == "STARTED" and sent.started is None:
                info = meta.get("result") if isinstance(meta.get("result"), dict) else {}
                sent.node, sent.started = clean(info.get("hostname") or "", 200), now
            if leases.get(task_id):
                sent.leased, sent.started = True, sent.started or now
            if (state == "STARTED" or sent.leased) and not sent.announced:
                sent.announced = True
                on_start(sent.item.job)
            if state in READY:
                why = self._settle(sent, meta, on_start, on_done)
                if why is None:
                    del pending[sent.expected.key]
                else:  # Celery keeps the first SUCCESS in a slot: the task needs a slot (an attempt) of its own
                    self._again(client, sent, pending, why)
                continue
            if sent.started is None:
                # Not started: waiting in its queue, unless the queue ran dry long ago (a node died between
                # taking it and starting it, or someone took it from the queue).
                dry = waiting.dry_for(queue_for(sent.item.job.exercise), now)
                lost = min(dry, now - sent.sent_at) > self.lease_seconds
            else:
                lost = not leases.get(task_id) and (sent.leased or now - sent.started > self.lease_seconds)
            if lost:
                who = f" ({sent.node})" if sent.node else ""
                self._again(client, sent, pending, f"its node{who} stopped answering (no lease for "
                                                   f"{self.lease_seconds:g}s)")

    def _settle(self, sent: Sent, meta: dict, on_start, on_done) -> str | None:
        """Record, or report, a finished attempt's answer: None when done with the task, else why it must
        be sent again (the answer was refused, or the attempt ended without one)."""
        job = sent.item.job
        state = str(meta.get("status")).lower()
        if state != "success":  # Celery's own report of a failure (a lost pool process, a time limit): unsigned
            self.problems.append(f"{job.who}/{job.exercise.id}: an attempt ended {state} without an answer")
            return f"its attempt ended {state} without an answer"
        try:
            answer = opened(self.key, meta.get("result"), sent.expected)
            result = graded(answer, sent.expected) if answer.status is Status.GRADED else None
        except Refused as exc:
            self._incident(f"{job.who}/{job.exercise.id}: refused an answer that is not the cluster's for this "
                           f"task ({exc}); nothing recorded")
            return "its answer was refused"
        if answer.status is Status.REJECTED:
            self.problems.append(f"{job.who}/{job.exercise.id}: a worker refused the task: {answer.reason}")
            return None
        if result is None:
            from grader.record.results import GradeResult

            result = GradeResult(job.name, job.exercise.id,
                                 error=f"the worker failed on this submission ({answer.reason})")
        if not sent.announced:
            sent.announced = True
            on_start(job)
        result.write(job.results_file)
        on_done(job, result)
        return None

    def _again(self, client: Celery, sent: Sent, pending: dict[str, Sent], why: str) -> None:
        """Send the task again, as a new attempt (whichever is answered first is recorded, once), or, after
        ``attempts`` of them, give up: the submission stays ungraded for the next run."""
        job = sent.item.job
        try:
            client.control.revoke(sent.attempts[-1])  # should the old attempt reach a node, it is dropped
        except Exception:  # noqa: BLE001 - a revoke that does not arrive costs one more grading, recorded once
            pass
        if len(sent.attempts) >= self.attempts:
            del pending[sent.expected.key]
            self.problems.append(f"{job.who}/{job.exercise.id}: {why}, after {len(sent.attempts)} attempts; "
                                 "left ungraded for the next run")
            _note("[red]✗[/]", f"{sent.who}: {why}; left ungraded for the next run")
            return
        self._send(client, sent)
        _note("[yellow]↻[/]", f"{sent.who}: {why}; sent again, attempt {len(sent.attempts)} of {self.attempts}")

    def _incident(self, message: str) -> None:
        self.incidents.append(message)
        self.problems.append(message)
        _note("[red]incident:[/]", message)


class Queues:
    """How long each queue has been empty, as seen from the coordinator (looked at once per poll at most)."""

    def __init__(self, channel):
        self.channel = channel
        self.seen: dict[str, float] = {}
        self.dry_since: dict[str, float | None] = {}

    def dry_for(self, queue: str, now: float) -> float:
        if self.seen.get(queue) != now:
            self.seen[queue] = now
            waiting = self.channel.queue_declare(queue=queue).message_count  # no side effect with Redis
            self.dry_since[queue] = None if waiting else (self.dry_since.get(queue) or now)
        since = self.dry_since[queue]
        return 0.0 if since is None else now - since


def _decoded(backend, raw: bytes | None) -> dict | None:
    """A result-backend entry as data (Celery's JSON), without making exceptions of it; None if unreadable."""
    if raw is None:
        return None
    try:
        meta = backend.decode(raw)
    except Exception:  # noqa: BLE001 - anyone with the broker's password can write anything there
        return {"status": "SUCCESS", "result": None}
    return meta if isinstance(meta, dict) else {"status": "SUCCESS", "result": None}


def _points(items: list["Planned"]) -> dict[str, float]:
    """What each exercise's tests are worth: the most a graded answer may claim."""
    from grader.course.points import exercise_points

    points: dict[str, float] = {}
    for item in items:
        exercise = item.job.exercise
        if exercise.id not in points:
            counted = exercise_points(exercise)
            points[exercise.id] = counted.total if counted.total is not None else counted.public
    return points


def _note(mark: str, text: str) -> None:
    """A line above the progress bar (on the batch's console) for what the cluster did beyond grading;
    ``text`` holds learners' folder names, so it is printed as text, never as markup."""
    from rich.markup import escape

    from grader.console import console

    console.print(f"{mark} {escape(clean(text, 500))}", highlight=False)
