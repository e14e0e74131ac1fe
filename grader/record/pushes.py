"""Grades sent to an LMS: what was sent for whom, when, and what the platform answered.

Appended to the gradebook, never changed. A push that failed or found no
one to send to is recorded too, as such, so the next push knows what to
retry and what is already there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING

from grader.learner_text import clean

if TYPE_CHECKING:
    from grader.record.gradebook import Gradebook

MAX_ANSWER = 2000


class PushStatus(Enum):
    SENT = "sent"            # the platform accepted the score
    FAILED = "failed"        # the platform refused it or could not be reached: to retry
    UNMATCHED = "unmatched"  # no one on the platform's roster is this learner: nothing sent


@dataclass(frozen=True)
class Push:
    learner: str
    exercise: str
    platform: str                 # the LMS's issuer
    status: PushStatus
    platform_user: str | None = None
    line_item: str | None = None
    score: float | None = None
    max_score: float | None = None
    answer: str = ""              # the platform's answer, bounded
    sent_at: str = ""
    id: int = 0


def record(book: "Gradebook", push: Push) -> int:
    sent_at = push.sent_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    cursor = book.db.execute(
        "INSERT INTO grade_pushes (learner, exercise, platform, platform_user, line_item, score, max_score, status, "
        "answer, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (push.learner, push.exercise, clean(push.platform, 500), push.platform_user, push.line_item, push.score,
         push.max_score, push.status.value, clean(push.answer, MAX_ANSWER), sent_at))
    return cursor.lastrowid


def history(book: "Gradebook", platform: str | None = None) -> list[Push]:
    """Every push, oldest first (to ``platform``, if given)."""
    where, params = ("WHERE platform = ?", (platform,)) if platform is not None else ("", ())
    rows = book.db.execute(f"SELECT id, learner, exercise, platform, platform_user, line_item, score, max_score, "
                           f"status, answer, sent_at FROM grade_pushes {where} ORDER BY id", params).fetchall()
    return [Push(row["learner"], row["exercise"], row["platform"], PushStatus(row["status"]), row["platform_user"],
                 row["line_item"], row["score"], row["max_score"], row["answer"] or "", row["sent_at"], row["id"])
            for row in rows]


def last_sent(book: "Gradebook", platform: str) -> dict[tuple[str, str], Push]:
    """The latest push the platform accepted, by (learner, exercise): what it holds now, as far as we know."""
    sent: dict[tuple[str, str], Push] = {}
    for push in history(book, platform):
        if push.status is PushStatus.SENT:
            sent[push.learner, push.exercise] = push
    return sent
