"""How a grading ended is one enum (grader.record.kinds.Outcome), decided once on the result.

The case that used to split the grader: a result with no test, no error and no
refusal. The gradebook called it graded (a 0), the platforms a grader failure.
Now it is a grader failure everywhere: no score recorded, the learner told it
was the grader's fault, the instructor told no test ran.
"""
from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import replace

import pytest

from grader.course.assignment import assignment
from grader.platforms import canvas, coursera, learner_view
from grader.record.gradebook import MIGRATIONS, Gradebook
from grader.record.kinds import Outcome
from grader.record.learner_view import learner_result
from grader.record.report.render import class_overview, junit_xml
from grader.record.results import NO_TEST_RAN, GradeResult
from grader.record.results import TestResult as Check  # not collected as a test class

EXERCISE = "hybrid_placement"


def _check(passed: bool = True) -> Check:
    return Check("t", "test_public.py::t", 1.0 if passed else 0.0, 1.0, "passed" if passed else "failed", "visible")


@pytest.mark.parametrize("refused, error, tests, outcome", [
    (None, None, [_check()], Outcome.GRADED),
    (None, None, [_check(False)], Outcome.GRADED),
    ("not a module", None, [], Outcome.REFUSED),
    ("not a module", "boom", [_check(False)], Outcome.REFUSED),  # refusal first
    (None, "the grader did not write results", [], Outcome.GRADER_ERROR),
    (None, "grading took longer than 600 s", [_check()], Outcome.GRADER_ERROR),
    (None, None, [], Outcome.GRADER_ERROR),  # no test at all: the grader's failure, not a 0
])
def test_the_outcome_is_computed_once_on_the_result(refused, error, tests, outcome):
    """Refused beats all; an error or no test is the grader's failure; it is kept through copies and results.json."""
    result = GradeResult("s", EXERCISE, list(tests), refused=refused, error=error)
    assert result.outcome is outcome
    assert replace(result).outcome is outcome and learner_result(result).outcome is outcome
    data = result.to_gradescope(private=True)
    assert data["extra_data"]["outcome"] == outcome.value
    assert GradeResult.from_gradescope(data).outcome is outcome
    with pytest.raises(TypeError):
        GradeResult("s", EXERCISE, outcome=Outcome.GRADED)  # never passed in, only computed


def test_no_test_no_error_no_refusal_is_a_grader_failure_everywhere(tmp_path, course):
    """Gradebook, reports and platforms agree on the formerly disputed result: no score, the grader failed."""
    empty = GradeResult("s", EXERCISE)
    assert empty.outcome is Outcome.GRADER_ERROR and empty.grader_failure == NO_TEST_RAN
    assert NO_TEST_RAN in empty.to_gradescope()["output"]

    # Platforms: the learner is told the grader failed; Coursera records no fraction.
    assert learner_view.headline(empty) == learner_view.GRADER_FAILURE
    assert learner_view.summary(empty) == learner_view.GRADER_FAILURE
    feedback = coursera.feedback_for(empty)
    assert "fractionalScore" not in feedback.data and feedback.data["feedback"] == learner_view.GRADER_FAILURE

    # Gradebook: stored and read back as a grader error, with no grade in the exports.
    graded = GradeResult("s", EXERCISE, [_check()])
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        book.record("ada", empty, submission="ada", content_hash="a", suite_hash="h")
        book.record("bob", graded, submission="bob", content_hash="b", suite_hash="h")
        runs = {run.learner: run for run in book.latest()}
        assert runs["ada"].outcome is Outcome.GRADER_ERROR and runs["ada"].outcome.value == "error"
        assert runs["ada"].grader_failure == NO_TEST_RAN and runs["bob"].outcome is Outcome.GRADED
        assert runs["ada"].to_result().outcome is Outcome.GRADER_ERROR
        assert book.unchanged("ada", EXERCISE, "a", "h", retry_errors=True) is None  # retried as an error
        assert book.unchanged("bob", EXERCISE, "b", "h", retry_errors=True) is not None
        chosen = assignment(course, [EXERCISE])
        rows = {row[0]: row for row in list(csv.reader(io.StringIO(canvas.export(book, chosen))))[2:]}
        assert rows["ada"][5] == "" and rows["bob"][5] == "1"  # the grader failed: no grade rather than 0

        # Reports: counted and listed as a grader error, left out of test statistics.
        overview = class_overview(book.latest(), chosen)
        (row,) = overview["per_exercise"]
        assert (row["errors"], row["refused"], row["full"]) == (1, 0, 0)
        assert overview["errors"] == [{"learner": "ada", "slug": "ada", "exercise": EXERCISE, "reason": NO_TEST_RAN}]
        assert 'name="status" value="error"' in junit_xml(runs["ada"]) and 'errors="1"' in junit_xml(runs["ada"])


def test_older_gradebooks_read_a_run_without_tests_as_a_grader_error(tmp_path):
    """A run recorded as graded with no test, error or refusal before the outcome was stored reads as one now."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for migrate in MIGRATIONS[:4]:
        migrate(db)
    db.execute("PRAGMA user_version = 4")
    for learner, status in (("ada", "graded"), ("bob", "graded"), ("cy", "refused")):
        db.execute("INSERT INTO runs (learner, exercise, submission, content_hash, suite_hash, score, max_score, "
                   "status, refused, execution_time, graded_at, sandboxed) VALUES (?, ?, 's', 'c', 'h', 0, 0, ?, ?, "
                   "1.0, '2025-01-01T00:00:00+00:00', 1)",
                   (learner, EXERCISE, status, "not a module" if status == "refused" else None))
    db.execute("INSERT INTO test_results VALUES (2, 0, 't', 'n', 1, 1, 'passed', 'visible', '', 0.1, 'passed')")
    db.close()
    with Gradebook(path) as book:
        outcomes = {run.learner: run.outcome for run in book.history()}
    assert outcomes == {"ada": Outcome.GRADER_ERROR, "bob": Outcome.GRADED, "cy": Outcome.REFUSED}
