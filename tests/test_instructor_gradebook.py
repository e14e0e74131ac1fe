"""The gradebook: history across regrades, resuming on content and suite hashes, migrations, CSV export."""
from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.assignment import assignment
from grader.record import exports
from grader.record.gradebook import MIGRATIONS, SCHEMA_VERSION, Gradebook, GradebookError
from grader.record.kinds import Kind
from grader.record.results import GradeResult
from grader.record.results import TestResult as Outcome  # not collected as a test class

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]


def _hml(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    if root is not None:
        env["HML_COURSE_ROOT"] = str(root)
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_regrades_keep_history_and_skip_unchanged_work(tmp_path, course, sandboxed):
    """A changed submission is regraded and both runs stay; the same content is skipped; --force regrades."""
    out = tmp_path / "out"
    submission = tmp_path / "alice" / "placement.py"
    submission.parent.mkdir()
    reference = course.exercise("hybrid_placement").reference.read_text()
    submission.write_text(reference.replace("LATENCY_LIMIT_MS = 100", "LATENCY_LIMIT_MS = 101"))  # one rule wrong

    def grade(*extra: str) -> str:
        result = _hml("grade", "-e", "hybrid_placement", "-o", str(out), *extra, str(submission))
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert "graded 1, skipped 0" in grade()
    submission.write_text(reference)  # fixed
    assert "graded 1, skipped 0" in grade()
    assert "graded 0, skipped 1" in grade()
    assert "graded 1, skipped 0" in grade("--force")

    with Gradebook(out / "gradebook.sqlite") as book:
        runs = book.history("placement", "hybrid_placement", tests=True)
        latest = book.latest()
    assert len(runs) == 3
    assert runs[0].content_hash != runs[1].content_hash == runs[2].content_hash
    assert runs[0].suite_hash == runs[1].suite_hash == runs[2].suite_hash
    assert runs[0].score < runs[0].max_score and runs[1].score == runs[1].max_score
    assert [t.name for t in runs[0].tests if not t.passed], "per-test results are kept for every run"
    assert all(r.graded_at and r.execution_time > 0 for r in runs)
    assert [(r.id, r.score) for r in latest] == [(runs[2].id, runs[2].max_score)]
    history = _hml("gradebook", "history", "placement", "-o", str(out))
    assert history.returncode == 0 and history.stdout.count("hybrid_placement") == 3


CACHED_TEST = '''
import os

import pytest


@pytest.mark.points(1)
def test_reference_from_the_batch_cache(batch_cache):
    """A reference value shared by the whole batch"""
    def compute():
        with open(os.environ["HML_TEST_COUNTER"], "a") as stream:
            stream.write("computed\\n")
        return {"answer": 42}

    assert batch_cache("reference", compute) == {"answer": 42}
'''


def test_references_computed_once_per_batch_and_again_when_tests_change(tmp_path, sandboxed, monkeypatch):
    """Three submissions graded two at a time compute a batch_cache reference once; unchanged, they are
    skipped; editing the hidden tests changes the suite hash, so all are regraded with a fresh cache."""
    course = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder / "hybrid_placement", course / folder / "hybrid_placement",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (course / "solutions" / "hybrid_placement" / "test_cached.py").write_text(CACHED_TEST)
    counter = tmp_path / "computed.txt"
    monkeypatch.setenv("HML_TEST_COUNTER", str(counter))  # inherited by the trusted pytest processes
    submissions = [str(course / "solutions" / "hybrid_placement" / "placement.py"),
                   str(course / "exercises" / "hybrid_placement" / "placement.py"),
                   str(course / "exercises" / "hybrid_placement" / "placement.ipynb")]
    out = tmp_path / "out"
    args = ("grade", "-e", "hybrid_placement", "-o", str(out), "--jobs", "2", *submissions)
    assert "graded 3, skipped 0" in _hml(*args, root=course).stdout
    assert counter.read_text().count("computed") == 1
    assert "graded 0, skipped 3" in _hml(*args, root=course).stdout
    hidden = course / "solutions" / "hybrid_placement" / "test_hidden.py"
    hidden.write_text(hidden.read_text() + "\n# a reviewer's note\n")
    assert "graded 3, skipped 0" in _hml(*args, root=course).stdout
    assert counter.read_text().count("computed") == 2
    with Gradebook(out / "gradebook.sqlite") as book:
        runs = book.history()
    assert len(runs) == 6
    assert sorted(r.content_hash for r in runs[:3]) == sorted(r.content_hash for r in runs[3:])
    assert runs[0].suite_hash != runs[3].suite_hash
    caches = sorted(p.name for p in (out / ".cache").iterdir())
    assert len(caches) == 2 and all(name.startswith("hybrid_placement-") for name in caches), caches


def _result(exercise: str, scores: list[float], points: float = 2.0, output: str = "wrong") -> GradeResult:
    tests = [Outcome(f"test {i}", f"hidden::t{i}::00", s, points, "passed" if s == points else "failed",
                        "hidden", "" if s == points else output) for i, s in enumerate(scores)]
    return GradeResult("x", exercise, tests, execution_time=1.5)


def test_csv_export_has_a_column_per_exercise_and_nbgrader_totals(tmp_path, course):
    """One row per learner; a column per assigned exercise (empty when not submitted); raw_score, score,
    max_score (the assignment's points: 31 + 20) and timestamp as nbgrader names them; the latest run counts;
    an exercise outside the assignment is left out; nbgrader's own layout on request."""
    path = tmp_path / "gradebook.sqlite"
    chosen = assignment(course, ["hybrid_placement", "kfp_basic_pipeline"])
    with Gradebook(path) as book:
        common = dict(submission="s", content_hash="c1", suite_hash="s1")
        book.record("bo", _result("kfp_basic_pipeline", [2, 2]), **common)
        book.record("al", _result("kfp_basic_pipeline", [2, 0]), **common)
        book.record("al", _result("hybrid_placement", [2, 2, 2]), **common)
        book.record("al", _result("kfp_basic_pipeline", [2, 2]), **dict(common, content_hash="c2"))
        book.record("al", _result("kfp_sweep", [2]), **common)  # not assigned
        text = exports.export_csv(book, chosen)
        nbgrader = exports.export_nbgrader_csv(book, chosen)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert next(csv.reader(io.StringIO(text))) == ["student_id", "hybrid_placement", "kfp_basic_pipeline",
                                                   "raw_score", "score", "max_score", "timestamp"]
    assert [r["student_id"] for r in rows] == ["al", "bo"]
    al, bo = rows
    assert (al["hybrid_placement"], al["kfp_basic_pipeline"], al["score"], al["max_score"]) == ("6", "4", "10", "51")
    assert (bo["hybrid_placement"], bo["kfp_basic_pipeline"], bo["raw_score"], bo["max_score"]) == ("", "4", "4", "51")
    assert al["timestamp"] and bo["timestamp"]
    assert next(csv.reader(io.StringIO(nbgrader))) == ("assignment,duedate,timestamp,student_id,last_name,first_name,"
                                                      "email,raw_score,late_submission_penalty,score,max_score").split(",")
    assert len(nbgrader.splitlines()) == 4
    cli = _hml("gradebook", "export", "--format", "csv", "--gradebook", str(path),
               "-e", "hybrid_placement", "-e", "kfp_basic_pipeline")
    assert cli.returncode == 0 and cli.stdout == text


def test_version_one_gradebook_is_migrated_in_place(tmp_path):
    """A schema-1 file opens as the current schema with its runs kept, timeouts counted and each test's kind
    backfilled; a newer one is refused."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO runs (learner, exercise, submission, content_hash, suite_hash, score, max_score, status,"
               " execution_time, graded_at, sandboxed) VALUES ('al', 'hybrid_placement', 's', 'c', 'h', 1, 3,"
               " 'graded', 2.0, '2025-01-01T00:00:00+00:00', 1)")
    db.execute("INSERT INTO test_results VALUES (1, 0, 't', 'n', 0, 2, 'failed', 'visible',"
               " 'the call of `place` did not finish within 10 seconds and was stopped', 10.0)")
    db.execute("INSERT INTO test_results VALUES (1, 1, 'u', 'm', 1, 1, 'passed', 'hidden', '', 0.1)")
    db.close()
    with Gradebook(path) as book:
        assert book.version == SCHEMA_VERSION > 1
        (run,) = book.history(tests=True)
        assert (run.learner, run.score, run.timeouts, len(run.tests)) == ("al", 1, 1, 2)
        assert [t.kind for t in run.tests] == [Kind.TIMEOUT, Kind.PASSED]  # _v4 backfills kinds from the wording
        book.record("al", _result("hybrid_placement", [2]), submission="s", content_hash="c2", suite_hash="h",
                    batch_id=book.start_batch("grade", 1, 1, 0))
        assert len(book.history()) == 2
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(GradebookError, match="newer"):
        Gradebook(path)


def test_a_relative_output_folder_keeps_the_batch_cache_inside_it(tmp_path, sandboxed, monkeypatch):
    """`hml grade -o out` run from any folder: the batch cache goes to ./out/.cache, never to a folder of the
    same name under the course (where the trusted pytest process runs)."""
    course = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder / "hybrid_placement", course / folder / "hybrid_placement",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (course / "solutions" / "hybrid_placement" / "test_cached.py").write_text(CACHED_TEST)
    monkeypatch.setenv("HML_TEST_COUNTER", str(tmp_path / "computed.txt"))
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, HML_COURSE_ROOT=str(course))
    graded = subprocess.run([*HML, "grade", "-e", "hybrid_placement", "-o", "out",
                             str(course / "solutions" / "hybrid_placement" / "placement.py")],
                            capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert list((work / "out" / ".cache").iterdir()) and not (course / "out").exists() and not (ROOT / "out").exists()
