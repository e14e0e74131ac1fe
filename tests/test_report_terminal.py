"""Terminal tables at 80 columns: nothing cut to `lea…` or `2026-1…`, every value readable in full."""
from __future__ import annotations

from rich.console import Console

from grader.record.gradebook import Gradebook
from grader.record.report.terminal import class_table, history_table
from grader.record.results import GradeResult
from grader.record.results import TestResult as Outcome  # not collected as a test class

EXERCISES = ["hybrid_portable_pipeline", "kfp_training_pipeline", "tflite_quantize", "hybrid_placement"]


def _render(table) -> str:
    console = Console(width=80, record=True, color_system=None)
    console.print(table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    return text


def _column(text: str, name: str, following: str) -> str:
    """One column's cells, their folded lines joined: the text between two headers' positions."""
    lines = text.splitlines()
    header = next(line for line in lines if f" {name} " in line)
    start, end = header.index(f" {name} "), header.index(f" {following} ")
    return "".join(line[start:end].strip() for line in lines[lines.index(header) + 2:])


def test_history_fits_80_columns_without_cutting(tmp_path):
    """`gradebook history` at 80 columns shows each run's full date and time, learner and exercise, no ellipsis."""
    with Gradebook(tmp_path / "g.sqlite") as book:
        for exercise in EXERCISES:
            book.record("a.learner.with.a.long.name", GradeResult("s", exercise, [
                Outcome("t", "n", 1, 2, "failed", "visible", "x")], execution_time=12.5),
                submission="s", content_hash="c" * 64, suite_hash="d" * 64)
        runs = book.history()
    for hashes in (False, True):
        text = _render(history_table(runs, hashes=hashes))
        assert "…" not in text, text
        learners = _column(text, "learner", "exercise")
        assert learners == "a.learner.with.a.long.name" * len(runs), learners
        for run in runs:
            date, time = run.graded_at.split("T")
            assert date in text and time[:8] in text and run.exercise in text
        assert ("cccccccc dddddddd" in text) is hashes


def test_class_summary_fits_80_columns_with_nine_exercises():
    """The class summary is one row per learner and exercise, so nine long exercise names still fit in 80
    columns, and each learner's total and percentage are shown."""
    nine = EXERCISES * 2 + ["graph_freeze"]
    rows = [(learner, exercise, 3, 10, "refused" if k == 2 else "") for learner in ("ada", "ben")
            for k, exercise in enumerate(nine)]
    text = _render(class_table(rows, {"ada": (27, 90), "ben": (27, 90)}))
    assert "…" not in text and text.count("27/90") == 2 and "(30%)" in text
    for exercise in nine:
        assert exercise in text
