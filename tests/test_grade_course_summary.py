"""grade-course's closing summary: totals out of what was assigned; an ungraded submission is not a 0."""
from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from grader.batch.coordinator import BatchOutcome
from grader.course.assignment import read_assignment
from grader.course.model import Course
from grader.grading.run import Job
from grader.record.report.terminal import class_summary
from grader.record.results import GradeResult, TestResult

ROOT = Path(__file__).resolve().parents[1]


def test_an_interrupted_summary_says_not_graded_and_totals_come_from_the_assignment(tmp_path):
    """ada's graded exercise counts out of the assignment's points; ben's ungraded one reads "not graded yet"
    rather than 0/31, and an exercise outside the assignment is marked so and left out of the total."""
    course = Course(ROOT)
    root = tmp_path / "class"
    root.mkdir()
    (root / "assignment.toml").write_text('exercises = ["hybrid_placement", "kfp_basic_pipeline"]\n')
    placement, sweep = course.exercise("hybrid_placement"), course.exercise("kfp_sweep")
    jobs = [Job(placement, root / "a.py", "ada/p", tmp_path, learner="ada"),
            Job(sweep, root / "b.py", "ada/s", tmp_path, learner="ada"),
            Job(placement, root / "c.py", "ben/p", tmp_path, learner="ben")]
    graded = GradeResult("ada/p", "hybrid_placement", [TestResult("t", "n", 10, 31, "passed", "visible")])
    unassigned = GradeResult("ada/s", "kfp_sweep", [TestResult("t", "n", 26, 26, "passed", "visible")])
    outcome = BatchOutcome([graded, unassigned], [graded, unassigned, None], graded=2, skipped=0, interrupted=True,
                           gradebook=None, elapsed=1.0)
    console = Console(width=80, record=True)
    console.print(class_summary(read_assignment(course, root / "assignment.toml"), jobs, outcome))
    text = console.export_text()
    assert "not graded yet" in text and "not assigned" in text
    assert "10/51" in text  # 31 + 20 points assigned, whatever was submitted
    assert "—/31" in text and not re.search(r"(?<![\d.])0/31", text)
