"""Canvas: `hml gradebook export --format canvas` writes what Canvas's gradebook import reads."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from grader.cli import main
from grader.record.gradebook import Gradebook

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"


def test_canvas_export_layout_and_one_row_per_learner(tmp_path, grade, course):
    """Header Student, ID, SIS User ID, SIS Login ID, Section, then one column per assigned exercise; a Points
    Possible row from the exercises' own points (also for one nobody has a grade in); one row per learner with
    their folder name as SIS ids and their latest score; a grader failure left blank."""
    reference = course.exercise("hybrid_placement").reference
    alice = grade("hybrid_placement", reference, "alice")
    bob = grade("hybrid_placement", HOSTILE / "leak_inputs.py", "bob")
    carol = grade("hybrid_placement", tmp_path / "missing.py", "carol")  # refused: 0
    book_path = tmp_path / "gradebook.sqlite"
    with Gradebook(book_path) as book:
        for learner, result in (("alice", bob), ("alice", alice), ("bob", bob), ("=carol", carol)):
            book.record(learner, result, submission=learner, content_hash=learner, suite_hash="s")
        failed = type(alice)("dave", "kfp_sweep", error="the grader did not write results")
        book.record("dave", failed, submission="dave", content_hash="d", suite_hash="s")
    out = tmp_path / "canvas.csv"
    result = CliRunner().invoke(main, ["gradebook", "export", "--format", "canvas", "--gradebook", str(book_path),
                                       "--output", str(out), "-e", "hybrid_placement", "-e", "kfp_sweep"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hybrid_placement", "kfp_sweep"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == "31" and rows[1][6] == "26"
    learners = {row[0]: row for row in rows[2:]}
    assert len(rows) - 2 == len(learners) == 4
    assert learners["alice"] == ["alice", "", "alice", "alice", "", "31", ""]  # latest run counts
    assert learners["bob"][5] == "0"
    assert learners["'=carol"][5] == "0"  # a name a spreadsheet would read as a formula is quoted
    assert learners["dave"][6] == ""  # the grader failed: no grade rather than 0
