"""A node's answer to a task, and what the coordinator demands of one before recording it.

The answer travels sealed with the cluster's key (``grader.batch.signing``)
and names the task it answers: the task's key, the submission's name, the
exercise and the suite hash. The coordinator records it only when the seal is
the cluster's, every name is the one it sent for that task, and the scores fit
the suite (each test's score between 0 and its maximum, the maxima adding up
to the exercise's points). Anything else is ``Refused``, with a reason in the
grader's own words: an answer's text is never repeated.
"""
from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from grader.batch.signing import BadSeal, ClusterKey, Purpose
from grader.learner_text import clean

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.results import GradeResult

POINTS_TOLERANCE = 1e-6  # results round scores to six places


class Status(enum.Enum):
    GRADED = "graded"      # the submission was graded: ``result`` holds it
    REJECTED = "rejected"  # the node would not grade this task (other tests, unknown exercise): ``reason``
    FAILED = "failed"      # grading broke on the node: ``reason``, recorded as the grader's error


class Refused(Exception):
    """An answer the coordinator will not record; the message is the grader's, never the answer's."""


@dataclass(frozen=True)
class Answer:
    key: str
    name: str
    exercise: str
    suite_hash: str
    node: str
    status: Status
    result: dict | None = None
    reason: str | None = None

    def sealed(self, key: ClusterKey) -> dict:
        return key.seal(Purpose.RESULT, {**asdict(self), "status": self.status.value})


@dataclass(frozen=True)
class Expected:
    """What the coordinator sent a task for, and the points its exercise is worth."""

    key: str
    name: str
    exercise: str
    suite_hash: str
    points: float


def opened(key: ClusterKey, sealed: object, expected: Expected) -> Answer:
    """The answer in ``sealed`` if the cluster's key signed it for this very task; ``Refused`` otherwise."""
    try:
        body = key.open(Purpose.RESULT, sealed)
    except BadSeal as exc:
        raise Refused(str(exc)) from None
    for field in ("key", "name", "exercise", "suite_hash"):
        if body.get(field) != getattr(expected, field):
            raise Refused(f"a signed answer that names another {field.replace('_', ' ')} than the task's")
    try:
        status = Status(body.get("status"))
    except ValueError:
        raise Refused("a signed answer with no status the grader knows") from None
    result, reason = body.get("result"), body.get("reason")
    if (status is Status.GRADED) != isinstance(result, dict) or (reason is not None and not isinstance(reason, str)):
        raise Refused("a signed answer whose parts do not fit its status")
    return Answer(body["key"], body["name"], body["exercise"], body["suite_hash"], clean(body.get("node"), 200),
                  status, result, None if reason is None else clean(reason, 2000))


def graded(answer: Answer, expected: Expected) -> "GradeResult":
    """The result a graded answer carries, named as the coordinator named the submission; ``Refused``
    when it is not a result of this exercise or its scores do not fit the suite."""
    from grader.record.results import GradeResult

    try:
        result = GradeResult.from_gradescope(answer.result or {})
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Refused("a signed answer whose result is not a results.json") from None
    if result.exercise != expected.exercise:
        raise Refused("a signed answer whose result is of another exercise")
    for test in result.tests:
        numbers = (test.score, test.max_score)
        if not all(isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
            raise Refused("a signed answer with a test whose score is not a number")
        if not 0 <= test.score <= test.max_score + POINTS_TOLERANCE:
            raise Refused("a signed answer with a test scored outside 0 and its maximum")
    if result.tests and abs(result.max_score - expected.points) > POINTS_TOLERANCE:
        raise Refused(f"a signed answer whose tests are worth {result.max_score:g} points, "
                      f"not the exercise's {expected.points:g}")
    result.submission = expected.name
    return result
