"""Attempt history: one SQLite file in the learner's data directory.

Location: ``--history-file``, else ``$HML_DATA_DIR/quiz_history.sqlite3``, else
``platformdirs.user_data_dir("hml")/quiz_history.sqlite3``.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.quiz.errors import HistoryError
from grader.quiz.grading import AnswerVerdict

DATA_DIR_ENV = "HML_DATA_DIR"
FILE_NAME = "quiz_history.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    taken_at TEXT NOT NULL,          -- ISO 8601, UTC
    quiz TEXT NOT NULL,
    mode TEXT NOT NULL,              -- interactive | answers-file | grade
    selection TEXT NOT NULL,
    retry INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    asked INTEGER NOT NULL,
    planned INTEGER NOT NULL,
    complete INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    module TEXT NOT NULL,
    topic TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_attempt ON responses(attempt_id);
"""


def default_path() -> Path:
    base = os.environ.get(DATA_DIR_ENV)
    if not base:
        # Imported here: platformdirs is only needed when no override is given.
        from platformdirs import user_data_dir

        base = user_data_dir("hml")
    return Path(base).expanduser() / FILE_NAME


@dataclass(frozen=True)
class Attempt:
    """One recorded attempt, as read back."""

    id: int
    taken_at: datetime
    quiz: str
    mode: str
    selection: str
    retry: int
    correct: int
    asked: int
    planned: int
    complete: bool

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class TopicMisses:
    module: str
    topic: str
    missed: int
    answered: int


class History:
    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()

    def record(self, *, quiz: str, mode: str, selection: str, verdicts: list[AnswerVerdict], planned: int,
               complete: bool, retry: int = 0, taken_at: datetime | None = None) -> int:
        """Store one attempt and its per-question statuses; returns the attempt id."""
        taken_at = taken_at or datetime.now(timezone.utc)
        correct = sum(v.correct for v in verdicts)
        with self._connect(create=True) as db:
            cursor = db.execute(
                "INSERT INTO attempts (taken_at, quiz, mode, selection, retry, correct, asked, planned, complete)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (taken_at.isoformat(timespec="seconds"), quiz, mode, selection, retry, correct, len(verdicts),
                 planned, int(complete)))
            attempt_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO responses (attempt_id, question_id, module, topic, status) VALUES (?, ?, ?, ?, ?)",
                [(attempt_id, v.question.id, v.question.module, v.question.topic, v.status.value)
                 for v in verdicts])
        return attempt_id

    def attempts(self, quiz: str | None = None, limit: int = 20) -> list[Attempt]:
        """The latest ``limit`` attempts, oldest first (so a table reads as a timeline)."""
        if not self.path.exists():
            return []
        query = "SELECT * FROM attempts" + (" WHERE quiz = ?" if quiz else "") + " ORDER BY id DESC LIMIT ?"
        params = ((quiz,) if quiz else ()) + (limit,)
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
        return [Attempt(id=r["id"], taken_at=datetime.fromisoformat(r["taken_at"]), quiz=r["quiz"],
                        mode=r["mode"], selection=r["selection"], retry=r["retry"], correct=r["correct"],
                        asked=r["asked"], planned=r["planned"], complete=bool(r["complete"]))
                for r in reversed(rows)]

    def most_missed(self, quiz: str | None = None, limit: int = 5) -> list[TopicMisses]:
        """Topics by number of misses (wrong or unreadable answers), most first; unanswered ones do not count."""
        if not self.path.exists():
            return []
        query = (
            "SELECT r.module, r.topic,"
            " SUM(r.status IN ('wrong', 'invalid')) AS missed,"
            " SUM(r.status != 'unanswered') AS answered"
            " FROM responses r JOIN attempts a ON a.id = r.attempt_id"
            + (" WHERE a.quiz = ?" if quiz else "")
            + " GROUP BY r.module, r.topic HAVING missed > 0"
            " ORDER BY missed DESC, CAST(missed AS REAL) / answered DESC, r.topic LIMIT ?")
        params = ((quiz,) if quiz else ()) + (limit,)
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
        return [TopicMisses(r["module"], r["topic"], r["missed"], r["answered"]) for r in rows]

    def _connect(self, create: bool = False):
        return _Connection(self.path, create)


class _Connection:
    """A connection that commits on success and turns SQLite failures into ``HistoryError``."""

    def __init__(self, path: Path, create: bool):
        self.path = path
        self.create = create

    def __enter__(self) -> sqlite3.Connection:
        try:
            if self.create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.row_factory = sqlite3.Row
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise HistoryError(f"Cannot open the quiz history at {self.path} ({err}). "
                               f"Use --history-file or set {DATA_DIR_ENV} to choose another place.") from err
        return self.db

    def __exit__(self, exc_type, exc, tb) -> bool:
        with closing(self.db):
            if exc_type is None:
                try:
                    self.db.commit()
                except sqlite3.Error as err:
                    raise HistoryError(f"Cannot write the quiz history at {self.path} ({err}).") from err
            elif issubclass(exc_type, sqlite3.Error):
                raise HistoryError(f"The quiz history at {self.path} is unusable ({exc}).") from exc
        return False
