"""Verdicts that follow the contract rule by rule: every single-rule mutant is graded and must lose.

The tables are in ``tests/mutants/`` (the format is in that package's
docstring): one module per exercise, each row the reference solution with
one sentence of the exercise's contract (curriculum) broken the way a
learner would break it, the test that must then lose its points, and the
words its message must say to name the rule. Rows marked ``survives`` are
mutants no test can tell from the reference; they must keep full marks, so
a stronger test shows up here as a row to update.

Each mutant is graded once (KFP gradings take a few seconds, placement half
a second). ``benchmarks/mutation_score.py`` grades the same rows and prints
the score per exercise. A table added for another exercise is picked up by
both without changes here.
"""
from __future__ import annotations

import pytest
from mutants import check_table, judge, mutant_source, reference_path, tables

TABLES = tables()
ROWS = [pytest.param(exercise_id, mutant, id=f"{exercise_id}/{mutant.id}")
        for exercise_id, mutants in TABLES.items() for mutant in mutants]


@pytest.mark.parametrize("exercise_id", sorted(TABLES))
def test_table_is_well_formed(course, exercise_id):
    """Every row names its rule and its expectation, has a unique id, and its edits each hit the reference once
    (a reference edited since the table was written shows up here, before any grading)."""
    reference = reference_path(exercise_id, course).read_text()
    assert check_table(exercise_id, TABLES[exercise_id], reference) == []


@pytest.mark.slow
@pytest.mark.parametrize(("exercise_id", "mutant"), ROWS)
def test_mutant_loses_points_naming_its_rule(grade_source, course, exercise_id, mutant):
    """The mutant loses points, and the test its row names loses all its points with a message naming the
    broken rule; a row marked as a survivor keeps full marks instead (so it is revisited when tests improve)."""
    reference = reference_path(exercise_id, course).read_text()
    result = grade_source(exercise_id, mutant_source(reference, mutant), name=mutant.id)
    verdict = judge(mutant, result, course.exercise(exercise_id))
    if mutant.survives:
        assert not verdict.killed and result.error is None and result.refused is None, (
            f"{mutant.id} is marked as a survivor ({mutant.survives}) but now loses points: update its row")
    else:
        assert verdict.as_expected, f"{mutant.id} ({mutant.rule}): {verdict.detail}"
