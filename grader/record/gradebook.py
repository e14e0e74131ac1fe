"""The gradebook: every grading run, in one SQLite file.

One row per run (learner, exercise, submission content hash, test-suite
hash, score, outcome, timings, when), with its per-test results beside it.
The outcome (``grader.record.kinds.Outcome``) is the result's own, stored in
the ``status`` column and read back as ``Run.outcome``: never derived here.
Regrading adds a run; nothing is overwritten, so a learner's history stays.
The latest run of each learner and exercise is their grade.

The schema carries a version (``PRAGMA user_version``) and upgrades itself
through the ``MIGRATIONS`` list on open; a file written by a newer grader
is refused rather than damaged.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from grader.errors import GraderError
from grader.learner_text import clean
from grader.record.kinds import Kind, Outcome
from grader.record.results import NO_TEST_RAN, GradeResult, TestResult

if TYPE_CHECKING:
    from grader.course.assignment import Assignment
    from grader.intake.submission_times import SubmissionTime

DEFAULT_NAME = "gradebook.sqlite"
# How the engine worded a timeout before results carried their kind: used only
# to give rows of older gradebooks a kind (``_v2``, ``_v4``).
_OLD_TIMEOUT_WORDS = re.compile(r"did not finish within|ran out of time|took longer than", re.IGNORECASE)
# The one run-level timeout: grader.grading.run stops a whole grading after its limit
# and says so in the run's error (a run has no kind of its own yet).
_GRADING_TIMEOUT = re.compile(r"^grading took longer than")


class GradebookError(GraderError):
    """The gradebook cannot be used as asked (a newer schema, a broken file)."""


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run statements one by one (``executescript`` would commit the migration's transaction)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(db, """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner TEXT NOT NULL,
            exercise TEXT NOT NULL,
            submission TEXT NOT NULL,          -- the path graded, as given
            content_hash TEXT NOT NULL,
            suite_hash TEXT NOT NULL,
            score REAL NOT NULL,
            max_score REAL NOT NULL,
            status TEXT NOT NULL,              -- graded | refused | error
            refused TEXT,
            error TEXT,
            execution_time REAL NOT NULL,      -- seconds, intake and start-up included
            graded_at TEXT NOT NULL,           -- ISO 8601, UTC
            sandboxed INTEGER NOT NULL,
            results_path TEXT
        );
        CREATE INDEX runs_by_learner ON runs (learner, exercise, id);
        CREATE TABLE test_results (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            nodeid TEXT NOT NULL,
            score REAL NOT NULL,
            max_score REAL NOT NULL,
            status TEXT NOT NULL,
            visibility TEXT NOT NULL,
            output TEXT NOT NULL,
            duration REAL NOT NULL,
            PRIMARY KEY (run_id, position)
        );
    """)


def _v2(db: sqlite3.Connection) -> None:
    """Batches (which command graded a run, with how many jobs) and a timeout count per run."""
    _script(db, """
        CREATE TABLE batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            command TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            jobs INTEGER NOT NULL,
            planned INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            interrupted INTEGER NOT NULL DEFAULT 0
        );
        ALTER TABLE runs ADD COLUMN batch_id INTEGER REFERENCES batches (id);
        ALTER TABLE runs ADD COLUMN timeouts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN grader_version TEXT;
    """)
    for run_id, output in db.execute("SELECT run_id, output FROM test_results").fetchall():
        if _OLD_TIMEOUT_WORDS.search(output or ""):
            db.execute("UPDATE runs SET timeouts = timeouts + 1 WHERE id = ?", (run_id,))


def _v3(db: sqlite3.Connection) -> None:
    """Which sandbox, and which of its protections, were in force for a run (JSON)."""
    _script(db, "ALTER TABLE runs ADD COLUMN sandbox TEXT")


def _v4(db: sqlite3.Connection) -> None:
    """How each test ended (grader.record.kinds.Kind); older rows get theirs from status and wording."""
    _script(db, "ALTER TABLE test_results ADD COLUMN kind TEXT NOT NULL DEFAULT 'failed'")
    db.execute("UPDATE test_results SET kind = 'passed' WHERE status = 'passed'")
    rows = db.execute("SELECT run_id, position, output FROM test_results WHERE status != 'passed'").fetchall()
    db.executemany("UPDATE test_results SET kind = 'timeout' WHERE run_id = ? AND position = ?",
                   [(run_id, position) for run_id, position, output in rows
                    if _OLD_TIMEOUT_WORDS.search(output or "")])


def _v5(db: sqlite3.Connection) -> None:
    """A run with no test, no error and no refusal is the grader's failure (``Outcome.of``), not a graded 0."""
    db.execute("UPDATE runs SET status = 'error' WHERE status = 'graded' AND error IS NULL AND refused IS NULL "
               "AND NOT EXISTS (SELECT 1 FROM test_results WHERE test_results.run_id = runs.id)")


def _v6(db: sqlite3.Connection) -> None:
    """What a course adds to the tests' points: submission times, an instructor's adjustments, grades sent out.

    Adjustments and pushes are appended, never changed: the latest row of a kind and target is in force
    (``points`` NULL: removed), and the rows before it are its history.
    """
    _script(db, """
        CREATE TABLE submission_times (
            learner TEXT NOT NULL,
            exercise TEXT NOT NULL,
            submitted_at TEXT,                 -- ISO 8601 with its zone, NULL when not known (counted on time)
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (learner, exercise)
        );
        CREATE TABLE adjustments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner TEXT NOT NULL,
            exercise TEXT NOT NULL,
            kind TEXT NOT NULL,                -- grader.record.adjustments.AdjustmentKind
            target TEXT NOT NULL DEFAULT '',   -- the test or rubric item, '' for the exercise
            points REAL,                       -- NULL when the adjustment was removed
            reason TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX adjustments_by_learner ON adjustments (learner, exercise, id);
        CREATE TABLE grade_pushes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner TEXT NOT NULL,
            exercise TEXT NOT NULL,
            platform TEXT NOT NULL,            -- the LMS's issuer
            platform_user TEXT,
            line_item TEXT,
            score REAL,
            max_score REAL,
            status TEXT NOT NULL,              -- sent | failed | unmatched
            answer TEXT,                       -- the platform's answer, bounded
            sent_at TEXT NOT NULL
        );
        CREATE INDEX pushes_by_learner ON grade_pushes (learner, exercise, id);
    """)


def _v7(db: sqlite3.Connection) -> None:
    """The LMS's own late flag, for a submission it gave no time for (``grader.intake.submission_times``)."""
    _script(db, "ALTER TABLE submission_times ADD COLUMN lms_late INTEGER")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _grader_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("hml-grader")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def timeouts_of(result: GradeResult) -> int:
    """Tests that ran out of time, by their kind; a whole grading stopped at its limit counts one."""
    count = sum(1 for t in result.tests if t.kind is Kind.TIMEOUT)
    if result.error and _GRADING_TIMEOUT.match(result.error):
        count += 1
    return count


@dataclass
class Run:
    id: int
    learner: str
    exercise: str
    submission: str
    content_hash: str
    suite_hash: str
    score: float
    max_score: float
    outcome: Outcome  # the ``status`` column
    refused: str | None
    error: str | None
    execution_time: float
    graded_at: str
    sandboxed: bool
    results_path: str | None
    batch_id: int | None
    timeouts: int
    grader_version: str | None
    sandbox: str | None = None  # JSON: {"kind", "protections", ...}
    tests: list[TestResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)
        self.sandboxed = bool(self.sandboxed)

    @property
    def grader_failure(self) -> str | None:
        """Why the grader failed (its error, or that no test ran); None unless the outcome is a grader error."""
        return (self.error or NO_TEST_RAN) if self.outcome is Outcome.GRADER_ERROR else None

    def to_result(self) -> GradeResult:
        return GradeResult(self.learner, self.exercise, list(self.tests), self.execution_time, self.refused,
                           self.error, self.sandboxed, json.loads(self.sandbox) if self.sandbox else None)


_RUN_COLUMNS = ("id, learner, exercise, submission, content_hash, suite_hash, score, max_score, "
                "status AS outcome, refused, error, execution_time, graded_at, sandboxed, results_path, batch_id, "
                "timeouts, grader_version, sandbox")


class Gradebook:
    """Open (creating or upgrading) the gradebook at ``path``. Use from one thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")  # a report can read while a batch writes
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise GradebookError(f"{self.path} is not a usable gradebook: {exc}") from None

    # -- schema ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise GradebookError(f"{self.path} has schema version {version}, newer than this grader's "
                                 f"{SCHEMA_VERSION}: upgrade the grader")
        for number in range(version, SCHEMA_VERSION):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self.version != number:  # another process migrated meanwhile
                    self.db.execute("ROLLBACK")
                    continue
                MIGRATIONS[number](self.db)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- batches --------------------------------------------------------------------------
    def start_batch(self, command: str, jobs: int, planned: int, skipped: int) -> int:
        cursor = self.db.execute("INSERT INTO batches (command, started_at, jobs, planned, skipped) "
                                 "VALUES (?, ?, ?, ?, ?)", (command, _now(), jobs, planned, skipped))
        return cursor.lastrowid

    def finish_batch(self, batch_id: int, interrupted: bool = False) -> None:
        self.db.execute("UPDATE batches SET finished_at = ?, interrupted = ? WHERE id = ?",
                        (_now(), int(interrupted), batch_id))

    # -- runs -----------------------------------------------------------------------------
    def record(self, learner: str, result: GradeResult, *, submission: str, content_hash: str, suite_hash: str,
               results_path: Path | None = None, batch_id: int | None = None) -> int:
        """Add one run and its tests, in one transaction: a killed grader leaves whole runs only."""
        learner, submission = clean(learner, 200), clean(submission, 1000)  # folder names are the learner's too
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self.db.execute(
                "INSERT INTO runs (learner, exercise, submission, content_hash, suite_hash, score, max_score, status,"
                " refused, error, execution_time, graded_at, sandboxed, results_path, batch_id, timeouts,"
                " grader_version, sandbox) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (learner, result.exercise, submission, content_hash, suite_hash, result.score, result.max_score,
                 result.outcome.value, result.refused, result.error, result.execution_time, _now(),
                 int(result.sandboxed), str(results_path) if results_path else None, batch_id,
                 timeouts_of(result), _grader_version(), json.dumps(result.sandbox) if result.sandbox else None))
            run_id = cursor.lastrowid
            self.db.executemany(
                "INSERT INTO test_results (run_id, position, name, nodeid, score, max_score, status, visibility,"
                " output, duration, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, i, t.name, t.nodeid, t.score, t.max_score, t.status, t.visibility, t.output, t.duration,
                  t.kind.value) for i, t in enumerate(result.tests)])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return run_id

    def _runs(self, where: str = "", params: Iterable = (), tests: bool = True) -> list[Run]:
        rows = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs {where}", tuple(params)).fetchall()
        runs = [Run(**{k: row[k] for k in row.keys()}) for row in rows]
        if tests and runs:
            by_id = {run.id: run for run in runs}
            ids = list(by_id)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self.db.execute(
                        f"SELECT run_id, name, nodeid, score, max_score, status, visibility, output, duration, kind "
                        f"FROM test_results WHERE run_id IN ({marks}) ORDER BY run_id, position", chunk):
                    by_id[row["run_id"]].tests.append(TestResult(row["name"], row["nodeid"], row["score"],
                                                                 row["max_score"], row["status"],
                                                                 row["visibility"], row["output"], row["duration"],
                                                                 row["kind"]))
        return runs

    def latest(self, tests: bool = True) -> list[Run]:
        """Each learner's latest run of each exercise: their current grades."""
        return self._runs("WHERE id IN (SELECT MAX(id) FROM runs GROUP BY learner, exercise) "
                          "ORDER BY learner, exercise", tests=tests)

    def latest_run(self, learner: str, exercise: str) -> Run | None:
        runs = self._runs("WHERE learner = ? AND exercise = ? ORDER BY id DESC LIMIT 1", (clean(learner, 200), exercise))
        return runs[0] if runs else None

    def history(self, learner: str | None = None, exercise: str | None = None, tests: bool = False) -> list[Run]:
        """Every run, oldest first, optionally of one learner and/or one exercise."""
        clauses, params = [], []
        if learner is not None:
            clauses.append("learner = ?")
            params.append(clean(learner, 200))
        if exercise is not None:
            clauses.append("exercise = ?")
            params.append(exercise)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._runs(f"{where} ORDER BY id", params, tests=tests)

    def count_runs(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def unchanged(self, learner: str, exercise: str, content_hash: str, suite_hash: str,
                  results_path: Path | None = None, retry_errors: bool = False) -> GradeResult | None:
        """The recorded result when the latest run graded this very content with this very suite."""
        run = self.latest_run(learner, exercise)
        if run is None or run.content_hash != content_hash or run.suite_hash != suite_hash:
            return None
        if retry_errors and run.outcome is Outcome.GRADER_ERROR:
            return None
        if results_path is not None and not Path(results_path).is_file():
            return None  # the results file was removed: write it again
        return run.to_result()

    # -- submission times ----------------------------------------------------------------
    def record_submission_times(self, times: "dict[tuple[str, str], SubmissionTime | None]") -> None:
        """When each (learner, exercise) was handed in, as the intake knows it.

        None (nothing known) records the submission as without a time unless a time is known already, and
        a row without a time keeps one known already: a class folder that lost its submissions.csv, or an
        LMS's export that gives only a late flag, must not erase what was recorded and so waive a penalty.
        """
        now = _now()
        known = [(clean(learner, 200), exercise, time.submitted_at.isoformat() if time.submitted_at else None,
                  None if time.late is None else int(time.late), now)
                 for (learner, exercise), time in times.items() if time is not None]
        unknown = [(clean(learner, 200), exercise, now) for (learner, exercise), time in times.items() if time is None]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            # A row with only the LMS's late flag keeps a time known already (the instructor may have added it).
            self.db.executemany("INSERT INTO submission_times (learner, exercise, submitted_at, lms_late, recorded_at)"
                                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (learner, exercise) DO UPDATE SET"
                                " submitted_at = COALESCE(excluded.submitted_at, submitted_at),"
                                " lms_late = excluded.lms_late, recorded_at = excluded.recorded_at", known)
            self.db.executemany("INSERT OR IGNORE INTO submission_times (learner, exercise, submitted_at, lms_late, "
                                "recorded_at) VALUES (?, ?, NULL, NULL, ?)", unknown)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def submission_times(self) -> "dict[tuple[str, str], SubmissionTime]":
        from grader.intake.submission_times import SubmissionTime

        return {(learner, exercise): SubmissionTime(learner, exercise, datetime.fromisoformat(when) if when else None,
                                                    None if late is None else bool(late))
                for learner, exercise, when, late
                in self.db.execute("SELECT learner, exercise, submitted_at, lms_late FROM submission_times")}

    def learners(self) -> set[str]:
        """Everyone the gradebook knows: graded, or with a submission recorded."""
        return {learner for (learner,) in self.db.execute("SELECT learner FROM runs UNION "
                                                          "SELECT learner FROM submission_times")}

    def mean_times(self) -> dict[str, float]:
        """Mean grading time per exercise over earlier runs, for estimating a batch's time left."""
        rows = self.db.execute("SELECT exercise, AVG(execution_time) FROM (SELECT exercise, execution_time FROM runs"
                               " WHERE status = ? ORDER BY id DESC LIMIT 2000) GROUP BY exercise",
                               (Outcome.GRADED.value,))
        return {exercise: mean for exercise, mean in rows}

    # -- export ---------------------------------------------------------------------------
    def assigned(self, assignment: "Assignment | None" = None, tests: bool = True) -> list[Run]:
        """The latest runs of the assigned exercises (``None``: every exercise of the course)."""
        assignment = _or_whole_course(assignment)
        return [run for run in self.latest(tests=tests) if run.exercise in assignment]


def _or_whole_course(assignment: "Assignment | None") -> "Assignment":
    from grader.course.assignment import or_whole_course

    return or_whole_course(assignment)


def default_path(output_dir: Path) -> Path:
    return Path(output_dir) / DEFAULT_NAME


def open_existing(path: Path | None, output_dir: Path) -> "Gradebook":
    """The gradebook a command reads: ``path``, else the one in ``output_dir``; it must exist already."""
    path = Path(path) if path is not None else default_path(output_dir)
    if not path.is_file():
        raise GradebookError(f"no gradebook at {path}: grade something first (hml grade-course ...)")
    return Gradebook(path)
