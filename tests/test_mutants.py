"""Verdicts that follow the contract rule by rule: every single-rule mutant is graded and must lose.

The tables are in ``tests/mutants/`` (the format is in that package's
docstring): one module per exercise, each row the reference solution with
one sentence of the exercise's contract (curriculum) broken the way a
learner would break it, the test that must then lose its points, and the
words its message must say to name the rule. Rows marked ``survives`` are
mutants no test can tell from the reference; they must keep full marks, so
a stronger test shows up here as a row to update.

KFP gradings take several seconds each, so rows that different tests catch
share one grading (``mutants.groups``), and each row is still judged on its
own test and message; ``alone`` rows and survivors are graded alone.
``benchmarks/mutation_score.py`` grades every row alone and prints the
score per exercise. A table added for another exercise is picked up by both
without changes here.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from mutants import check_table, combined_source, groups, judge, reference_path, tables

from grader.course.model import Course

COURSE = Course(Path(__file__).resolve().parents[1])
TABLES = tables()
GROUPS = [pytest.param(exercise_id, group, id=f"{exercise_id}/{'+'.join(m.id for m in group)}")
          for exercise_id, mutants in TABLES.items()
          for group in groups(mutants, reference_path(exercise_id, COURSE).read_text())]


@pytest.mark.parametrize("exercise_id", sorted(TABLES))
def test_table_is_well_formed(course, exercise_id):
    """Every row names its rule and its expectation, has a unique id, and its edits each hit the reference once
    (a reference edited since the table was written shows up here, before any grading)."""
    reference = reference_path(exercise_id, course).read_text()
    assert check_table(exercise_id, TABLES[exercise_id], reference) == []


@pytest.mark.parametrize(("exercise_id", "group"), GROUPS)
def test_mutants_lose_points_naming_their_rules(grade_source, course, exercise_id, group):
    """Each row's test loses all its points with a message naming the row's broken rule (several rows caught
    by different tests share one grading); a row marked as a survivor keeps full marks instead."""
    reference = reference_path(exercise_id, course).read_text()
    result = grade_source(exercise_id, combined_source(reference, group), name=group[0].id)
    assert result.error is None and result.refused is None, result.error or result.refused
    wrong = []
    for mutant in group:
        verdict = judge(mutant, result, course.exercise(exercise_id))
        if mutant.survives and verdict.killed:
            wrong.append(f"{mutant.id} is marked as a survivor ({mutant.survives}) but loses points: update its row")
        elif not mutant.survives and not verdict.as_expected:
            wrong.append(f"{mutant.id} ({mutant.rule}): {verdict.detail}")
    assert not wrong, "\n".join(wrong)
