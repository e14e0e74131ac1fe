"""Running a course around the grader: due dates, late policy, extensions and grace days; overrides and rubric
points; what a regrade changed. Grades are computed from the gradebook and the assignment file each time they are
read, so a policy change or an extension needs no regrade, and an instructor's adjustment outlives one."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.course.deadlines import Deadlines, LatePolicy
from grader.record.gradebook import Gradebook
from grader.record.results import GradeResult, TestResult

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]
EXERCISE = "hybrid_placement"

ASSIGNMENT = """\
exercises = ["hybrid_placement"]
[due]
hybrid_placement = 2026-12-01T23:59:00Z
[late]
penalty_per_day = {penalty}
max_days = 5
grace_days = 1
[extensions.bo]
hybrid_placement = 2026-12-05T23:59:00Z
[rubric.hybrid_placement]
reasons_explain = {{ points = 2, text = "the reasons explain the choice" }}
"""
TIMES = """\
learner,exercise,submitted_at
ann,hybrid_placement,2026-12-01T20:00:00Z
bo,hybrid_placement,2026-12-04T10:00:00+01:00
cy,hybrid_placement,2026-12-03T12:00:00Z
"""
NEW_HIDDEN_TEST = '''

@pytest.mark.points(1)
def test_added_after_the_first_grading():
    """A test added to the suite after the class was graded"""
    assert True
'''


def _hml(*args: str, course: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", HML_COURSE_ROOT=str(course))
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(text: str) -> dict[str, dict[str, str]]:
    return {row["student_id"]: row for row in csv.DictReader(io.StringIO(text))}


def test_a_class_with_deadlines_overrides_rubric_and_a_regrade(tmp_path, sandboxed):
    """The whole course loop on a real grading: ann on time; bo late by the class's date but within her
    extension; cy two started days late, one covered by her grace day, so 10% of the 33 points go; dee with no
    recorded time, counted on time and flagged. grades.csv, the JSON export and the learner pages show raw and
    final points, days late and penalty; a policy change moves the grades without a regrade. An override with
    its reason and rubric points from a CSV show on the page and in the export and outlive a --force regrade.
    A test added to the suite and a regrade: `hml gradebook diff` and the report's regrade section list the old and
    new points and the test. One rubric item given on the command line counts; nbgrader's rows add up (rubric
    points in raw_score, an override as raw_score with no penalty); a removed override gives back the tests'
    points."""
    course = tmp_path / "course"
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder / EXERCISE, course / folder / EXERCISE,
                        ignore=shutil.ignore_patterns("__pycache__"))
    reference = (course / "solutions" / EXERCISE / "placement.py").read_text()
    klass, out = tmp_path / "class", tmp_path / "out"
    for learner, source in (("ann", reference), ("bo", reference), ("cy", reference),
                            ("dee", reference.replace("LATENCY_LIMIT_MS = 100", "LATENCY_LIMIT_MS = 101"))):
        (klass / learner).mkdir(parents=True)
        (klass / learner / f"{EXERCISE}.py").write_text(source)
    assignment = klass / "assignment.toml"
    assignment.write_text(ASSIGNMENT.format(penalty=0.10))
    (klass / "submissions.csv").write_text(TIMES)
    options = ("-o", str(out), "--assignment", str(assignment))

    graded = _hml("grade-course", str(klass), "-o", str(out), "--jobs", "2", course=course)
    assert "gives no time for 1 submission(s), counted on time: dee/hybrid_placement" in _ok(graded) + graded.stderr
    _ok(_hml("report", *options, course=course))
    rows = _rows((out / "report" / "grades.csv").read_text())
    dee_raw = float(rows["dee"]["hybrid_placement_raw"])
    assert 0 < dee_raw < 31
    assert {name: float(row["hybrid_placement"]) for name, row in rows.items()} == \
        {"ann": 31, "bo": 31, "cy": pytest.approx(31 - 3.3), "dee": dee_raw}
    assert (rows["bo"]["hybrid_placement_days_late"], rows["cy"]["hybrid_placement_days_late"]) == ("0", "2")
    assert float(rows["cy"]["hybrid_placement_late_penalty"]) == pytest.approx(3.3)
    assert (float(rows["cy"]["raw_score"]), float(rows["cy"]["max_score"])) == (31, 33)
    assert rows["dee"]["hybrid_placement_submitted_at"] == "unknown"
    cy_page = (out / "report" / "learners" / "cy.html").read_text()
    assert "2 day(s) late, 1 grace day(s) used" in cy_page and "27.7 / 33" in cy_page
    assert "no submission time recorded: counted on time" in (out / "report" / "learners" / "dee.html").read_text()

    assignment.write_text(ASSIGNMENT.format(penalty=0.20))  # the policy changes; nothing is graded again
    exported = json.loads(_ok(_hml("gradebook", "export", "--format", "json", *options, course=course)))
    cy = next(grade for grade in exported if grade["learner"] == "cy")
    assert (cy["score"], cy["raw_score"], cy["days_late"], cy["grace_days_used"]) == (pytest.approx(24.4), 31, 2, 1)
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.count_runs() == 4

    reason = "rule 3 was ambiguous in the statement <b>"
    _ok(_hml("gradebook", "override", "dee", EXERCISE, "--points", "30", "--reason", reason, *options,
             course=course))
    marks = tmp_path / "rubric.csv"
    marks.write_text("learner,exercise,item,points,reason\nann,hybrid_placement,reasons_explain,2,clear reasons\n"
                     "bo,hybrid_placement,reasons_explain,,\n")
    _ok(_hml("gradebook", "rubric", "--from-csv", str(marks), *options, course=course))
    history = _ok(_hml("gradebook", "history", "dee", "-o", str(out), course=course))
    assert "override" in history and "rule 3 was ambiguous" in history
    (klass / "submissions.csv").unlink()  # lost: the times recorded from it stay
    regraded = _hml("grade-course", str(klass), "-o", str(out), "--jobs", "2", "--force", course=course)
    assert "there is no submissions.csv in class for 3 submission(s) with a time recorded earlier: that time is " \
           "kept" in _ok(regraded) + regraded.stderr
    _ok(_hml("report", *options, course=course))
    rows = _rows((out / "report" / "grades.csv").read_text())
    assert rows["cy"]["hybrid_placement_days_late"] == "2"
    assert (float(rows["dee"]["hybrid_placement"]), rows["dee"]["hybrid_placement_override"]) == (30, reason)
    assert (float(rows["ann"]["hybrid_placement"]), float(rows["ann"]["hybrid_placement_rubric"])) == (33, 2)
    dee_page = (out / "report" / "learners" / "dee.html").read_text()
    assert "rule 3 was ambiguous in the statement &lt;b&gt;" in dee_page and "30 / 33" in dee_page
    assert "clear reasons" in (out / "report" / "learners" / "ann.html").read_text()
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.count_runs() == 8

    hidden = course / "solutions" / EXERCISE / "test_hidden.py"
    hidden.write_text(hidden.read_text() + NEW_HIDDEN_TEST)
    _ok(_hml("grade-course", str(klass), "-o", str(out), course=course))
    diffs = json.loads(_ok(_hml("gradebook", "diff", "-o", str(out), "--json", course=course)))
    assert sorted(d["learner"] for d in diffs) == ["ann", "bo", "cy", "dee"]
    for diff in diffs:
        assert diff["after"] == diff["before"] + 1
        assert diff["changes"] == [{"name": "A test added to the suite after the class was graded",
                                    "before": None, "after": "passed"}]
    table = _ok(_hml("gradebook", "diff", "-o", str(out), course=course))
    assert "4 of 4 regraded submission(s) changed" in table and "new → passed" in table

    _ok(_hml("gradebook", "rubric", "cy", EXERCISE, "reasons_explain", "--points", "1", "--reason", "brief",
             *options, course=course))
    nbgrader = {row["student_id"]: row for row in csv.DictReader(io.StringIO(
        _ok(_hml("gradebook", "export", "--format", "nbgrader-csv", *options, course=course))))}
    for row in nbgrader.values():
        assert float(row["raw_score"]) - float(row["late_submission_penalty"]) == pytest.approx(float(row["score"]))
    cy_row, dee_row = nbgrader["cy"], nbgrader["dee"]
    assert (float(cy_row["raw_score"]), float(cy_row["late_submission_penalty"])) == (32 + 1, pytest.approx(6.8))
    assert (float(dee_row["raw_score"]), float(dee_row["late_submission_penalty"])) == (30, 0)
    _ok(_hml("gradebook", "override", "dee", EXERCISE, "--remove", *options, course=course))
    again = _hml("gradebook", "override", "dee", EXERCISE, "--remove", *options, course=course)
    assert again.returncode == 1 and "dee / hybrid_placement has no override to remove" in again.stderr
    exported = {grade["learner"]: grade for grade in
                json.loads(_ok(_hml("gradebook", "export", "--format", "json", *options, course=course)))}
    assert exported["dee"]["score"] == exported["dee"]["raw_score"] and not exported["dee"]["adjustments"]
    assert exported["cy"]["rubric"] == 1
    _ok(_hml("report", *options, course=course))
    index = (out / "report" / "index.html").read_text()
    regrades = index[index.index('id="regrades"'):]
    for diff in diffs:
        assert (f'<td>{diff["learner"]}</td><td>{EXERCISE}</td><td class="num">{round(diff["before"], 2):g}</td>'
                f'<td class="num">{round(diff["after"], 2):g}</td><td>A test added to the suite after the class was '
                f'graded: new → passed</td>') in regrades


def _book(path: Path, learners: dict[str, float]) -> Path:
    with Gradebook(path) as book:
        for learner, score in learners.items():
            test = TestResult("rules", "hidden::rules", score, 31, "passed" if score == 31 else "failed", "hidden", "")
            book.record(learner, GradeResult(learner, EXERCISE, [test]), submission="s", content_hash=learner,
                        suite_hash="s1")
    return path


def test_grace_days_go_where_they_save_points_and_max_days_ends_the_points():
    """Started days count (a minute late is a day); grace days go where they save the learner the most points,
    the earlier due date first when that is the same; none is spent where it saves nothing (work past
    max_days even with them, work that earned 0); beyond max_days (after grace) nothing is earned; an extension
    moves one learner's date; a due date set for one exercise only leaves the others never late."""
    utc = timezone.utc
    deadlines = Deadlines({"a": datetime(2026, 12, 1, tzinfo=utc), "b": datetime(2026, 12, 8, tzinfo=utc)},
                          LatePolicy(penalty_per_day=0.25, max_days=2, grace_days=2),
                          {"eve": {"b": datetime(2026, 12, 20, tzinfo=utc)}})
    late = deadlines.lateness("al", {"b": datetime(2026, 12, 9, 0, 1, tzinfo=utc),
                                     "a": datetime(2026, 12, 2, 0, 1, tzinfo=utc)})
    assert (late["a"].days_late, late["a"].grace_days_used, late["a"].share_lost) == (2, 2, 0)
    assert (late["b"].days_late, late["b"].grace_days_used, late["b"].share_lost) == (2, 0, 0.5)
    very = deadlines.lateness("al", {"a": datetime(2026, 12, 6, tzinfo=utc)})["a"]
    assert (very.charged_days, very.grace_days_used, very.share_lost) == (5, 0, 1.0)
    zero_first = deadlines.lateness("al", {"a": datetime(2026, 12, 2, 0, 1, tzinfo=utc),
                                           "b": datetime(2026, 12, 10, 0, 1, tzinfo=utc)},
                                    {"a": (0.0, 10.0), "b": (10.0, 10.0)})
    assert (zero_first["a"].grace_days_used, zero_first["b"].grace_days_used) == (0, 2)
    assert zero_first["b"].share_lost == 0.25
    mixed = deadlines.lateness("al", {"a": datetime(2026, 12, 2, 0, 1, tzinfo=utc), "c": datetime(2027, 1, 1,
                                                                                                 tzinfo=utc)})
    assert mixed["c"].days_late == 0 and mixed["a"].grace_days_used == 2
    assert deadlines.lateness("eve", {"b": datetime(2026, 12, 19, tzinfo=utc)})["b"].days_late == 0
    assert deadlines.lateness("al", {"a": None})["a"].days_late == 0


@pytest.mark.parametrize("change, message", [
    (("penalty_per_day = {penalty}", "penalty_per_day = -0.1"),
     "assignment.toml, line 5: late.penalty_per_day: -0.1 is not a share between 0 and 1"),
    (("hybrid_placement = 2026-12-05T23:59:00Z", "hybrid_placement = 2026-12-05T23:59:00"),
     "assignment.toml, line 9: extensions.bo.hybrid_placement: 2026-12-05T23:59:00 has no time zone"),
    (("[extensions.bo]", "[extensions.zed]"),
     "assignment.toml, line 8: extensions.zed: the gradebook knows no learner 'zed' (a typo?"),
    (("max_days = 5", "max_days = 5\nmax_weeks = 1"), "assignment.toml, line 7: late.max_weeks: not a late-policy"),
    (("grace_days = 1", "grace_days = 10000"), "assignment.toml, line 7: late.grace_days: 10000 is more than 30"),
    (('exercises = ["hybrid_placement"]', 'exercises = ["hybrid_placement", "nope"]'),
     "assignment.toml, line 1: exercises: there is no exercise 'nope' (known: "),
    (('exercises = ["hybrid_placement"]', 'exercises = "hybrid_placement"'),
     "assignment.toml, line 1: exercises: expected a list of exercise ids"),
])
def test_a_bad_assignment_file_names_its_line_and_field(tmp_path, change, message):
    """Each mistake in the course's policy is one line naming the file, the line and the field, as soon as a
    command reads the file: nothing is exported, no override recorded, no report folder left behind, and
    grade-course (reading ROOT/assignment.toml itself) stops before grading anyone."""
    out, klass = tmp_path / "out", tmp_path / "class"
    _book(out / "gradebook.sqlite", {"ann": 31, "bo": 20})
    (klass / "ann").mkdir(parents=True)
    (klass / "ann" / f"{EXERCISE}.py").write_text("x = 1\n")
    (klass / "assignment.toml").write_text(ASSIGNMENT.replace(*change).format(penalty=0.1))
    options = ("-o", str(out), "--assignment", str(klass / "assignment.toml"))
    for command in (("gradebook", "export", *options),
                    ("gradebook", "override", "ann", EXERCISE, "--points", "30", "--reason", "r", *options),
                    ("report", *options),
                    ("grade-course", str(klass), "-o", str(out))):
        result = _hml(*command, course=ROOT)
        assert result.returncode == 1 and result.stdout == "", (command, result.stdout)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (command, result.stderr)
    assert not (out / "report").exists()
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.count_runs() == 2 and book.db.execute("SELECT COUNT(*) FROM adjustments").fetchone()[0] == 0


def test_bad_times_overrides_and_rubric_rows_are_refused_whole(tmp_path):
    """A submission time without a zone, or a row with a cell beyond the header, stops grade-course before anything
    is graded, naming the line; an override for a learner never graded, or without a reason, is refused; a rubric
    CSV with one bad row (points out of range, a learner never graded, a cell beyond the header) records none, and
    its error names the line and the field."""
    klass = tmp_path / "class"
    (klass / "ann").mkdir(parents=True)
    (klass / "ann" / f"{EXERCISE}.py").write_text("x = 1\n")
    for row, message in (("ann,hybrid_placement,2026-12-01 10:00",
                          "submissions.csv, line 2, submitted_at: 2026-12-01T10:00:00 has no time zone"),
                         ("ann,hybrid_placement,2026-12-01T10:00:00Z,extra",
                          "submissions.csv, line 2: 4 cells, but the header names 3 columns")):
        (klass / "submissions.csv").write_text(f"learner,exercise,submitted_at\n{row}\n")
        graded = _hml("grade-course", str(klass), "-o", str(tmp_path / "g"), course=ROOT)
        assert graded.returncode == 1 and message in graded.stderr, graded.stderr
        assert not (tmp_path / "g" / "gradebook.sqlite").exists() or Gradebook(
            tmp_path / "g" / "gradebook.sqlite").count_runs() == 0

    out = tmp_path / "out"
    _book(out / "gradebook.sqlite", {"ann": 31, "bo": 20})
    (tmp_path / "assignment.toml").write_text(ASSIGNMENT.format(penalty=0.1))
    options = ("-o", str(out), "--assignment", str(tmp_path / "assignment.toml"))
    unknown = _hml("gradebook", "override", "zed", EXERCISE, "--points", "3", "--reason", "r", *options, course=ROOT)
    assert unknown.returncode == 1 and "'zed' has no grading of hybrid_placement" in unknown.stderr
    bare = _hml("gradebook", "override", "ann", EXERCISE, "--points", "3", *options, course=ROOT)
    assert bare.returncode == 1 and "give the reason (--reason)" in bare.stderr
    marks = tmp_path / "rubric.csv"
    for row, message in (("bo,hybrid_placement,reasons_explain,5,",
                          "rubric.csv, line 3, points: 5 is not between 0 and item reasons_explain's 2"),
                         ("zed,hybrid_placement,reasons_explain,1,", "rubric.csv, line 3, learner: 'zed' has no "
                                                                     "grading of hybrid_placement"),
                         ("bo,hybrid_placement,reasons_explain,1,clear, short",
                          "rubric.csv, line 3: 6 cells, but the header names 5 columns")):
        marks.write_text(f"learner,exercise,item,points,reason\nann,hybrid_placement,reasons_explain,2,\n{row}\n")
        rubric = _hml("gradebook", "rubric", "--from-csv", str(marks), *options, course=ROOT)
        assert rubric.returncode == 1 and message in rubric.stderr, rubric.stderr
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.db.execute("SELECT COUNT(*) FROM adjustments").fetchone()[0] == 0


def test_a_late_flag_without_a_time_is_shown_and_costs_nothing_until_the_time_is_known(tmp_path):
    """Canvas's download says only LATE_: the row in submissions.csv carries late=yes and no time. The grade keeps
    its points (how late is unknown), and every export and the learner's page say the course site marked it late;
    once the instructor writes its time, the policy counts the days."""
    from grader.course.assignment import read_assignment
    from grader.course.model import Course
    from grader.intake.submission_times import read_times
    from grader.record import exports

    out = tmp_path / "out"
    _book(out / "gradebook.sqlite", {"ann": 31, "bo": 31})
    (tmp_path / "assignment.toml").write_text(ASSIGNMENT.format(penalty=0.1))
    chosen = read_assignment(Course(ROOT), tmp_path / "assignment.toml")
    times = tmp_path / "submissions.csv"
    for row, score, shown in (("ann,hybrid_placement,,yes", 31, exports.LMS_LATE),
                              ("ann,hybrid_placement,2026-12-03T00:30:00Z,yes", pytest.approx(31 - 3.3),
                               "2026-12-03T00:30:00+00:00")):
        times.write_text(f"learner,exercise,submitted_at,late\n{row}\n")
        with Gradebook(out / "gradebook.sqlite") as book:
            book.record_submission_times(read_times(times))
            grade = json.loads(exports.export_json(book, chosen))[0]
            rows = _rows(exports.export_csv(book, chosen))
        assert (grade["score"], grade["late_by_the_lms"]) == (score, True)
        assert rows["ann"]["hybrid_placement_submitted_at"] == shown


def test_a_report_holds_pages_only_for_the_learners_it_shows(tmp_path):
    """A page left from an earlier report (a learner outside this assignment, a folder since renamed) would be
    handed out with stale grades: writing the report again removes it."""
    from grader.course.assignment import assignment
    from grader.course.model import Course
    from grader.record.report.render import write_report

    with Gradebook(_book(tmp_path / "gradebook.sqlite", {"ann": 31, "bo": 20})) as book:
        book.record("cy", GradeResult("cy", "kfp_basic_pipeline", [TestResult("t", "t", 1, 1, "passed", "hidden", "")]),
                    submission="s", content_hash="c", suite_hash="s1")
        write_report(book, tmp_path / "report", assignment=assignment(Course(ROOT), [EXERCISE, "kfp_basic_pipeline"]))
        assert sorted(p.name for p in (tmp_path / "report" / "learners").iterdir()) == ["ann.html", "bo.html",
                                                                                       "cy.html"]
        write_report(book, tmp_path / "report", assignment=assignment(Course(ROOT), [EXERCISE]))
    assert sorted(p.name for p in (tmp_path / "report" / "learners").iterdir()) == ["ann.html", "bo.html"]


def test_overrides_name_one_test_and_a_grader_failure_stays_ungraded(tmp_path):
    """A visible and a hidden test may share a name: an override by that name is refused as ambiguous, one by
    node id changes that test alone. A run the grader failed on stays without a grade under a test override
    (only an override of the whole exercise gives it points). After a regrade drops the overridden test, the
    override counts nothing, and the export and `hml gradebook diff` say so."""
    from grader.course.assignment import assignment
    from grader.course.model import Course
    from grader.record import exports

    out = tmp_path / "out"
    twins = [TestResult("reasons", "public::reasons", 0, 1, "failed", "visible", "no"),
             TestResult("reasons", "hidden::reasons", 0, 1, "failed", "hidden", ""),
             TestResult("rules", "hidden::rules", 29, 29, "passed", "hidden", "")]
    with Gradebook(out / "gradebook.sqlite") as book:
        book.record("ann", GradeResult("ann", EXERCISE, twins), submission="s", content_hash="c", suite_hash="s1")
    options = ("-o", str(out), "-e", EXERCISE)
    twice = _hml("gradebook", "override", "ann", EXERCISE, "--test", "reasons", "--points", "1", "--reason", "r",
                 *options, course=ROOT)
    assert twice.returncode == 1 and "2 tests of hybrid_placement are named 'reasons': name one by its node id " \
                                     "(public::reasons, hidden::reasons)" in twice.stderr, twice.stderr
    _ok(_hml("gradebook", "override", "ann", EXERCISE, "--test", "hidden::reasons", "--points", "1", "--reason",
             "the hidden check was too strict", *options, course=ROOT))
    chosen = assignment(Course(ROOT), [EXERCISE])
    with Gradebook(out / "gradebook.sqlite") as book:
        (grade,) = json.loads(exports.export_json(book, chosen))
        assert (grade["raw_score"], grade["score"]) == (29, 30)
        broken = GradeResult("ann", EXERCISE, [], error="the worker could not start")
        book.record("ann", broken, submission="s", content_hash="c", suite_hash="s1")
        (grade,) = json.loads(exports.export_json(book, chosen))
        assert grade["score"] is None and _rows(exports.export_csv(book, chosen))["ann"][EXERCISE] == ""
        renamed = [TestResult("rules", "hidden::rules", 29, 29, "passed", "hidden", "")]
        book.record("ann", GradeResult("ann", EXERCISE, renamed), submission="s", content_hash="c", suite_hash="s2")
        (grade,) = json.loads(exports.export_json(book, chosen))
    assert grade["score"] == 29 and [a["target"] for a in grade["stale_adjustments"]] == ["hidden::reasons"]
    diff = _ok(_hml("gradebook", "diff", "-o", str(out), course=ROOT))
    assert "The override of hidden::reasons for ann / hybrid_placement counts nothing now" in diff
