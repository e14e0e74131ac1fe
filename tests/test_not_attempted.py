"""A part still the starter's TODO shows as "not attempted", not as failed: when the learner's function raises
the starter's NotImplementedError, and when a pipeline's run fails because a component's compiled source still
raises it (decided from that source, on the trusted side)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from grader.course.model import Course

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)


def _check(folder: Path, exercise_id: str, env: dict) -> tuple[dict, str]:
    results = folder / "results.json"
    process = subprocess.run([sys.executable, "-m", "grader.cli", "check", exercise_id, str(folder / "pipeline.py"),
                              "--results", str(results)], cwd=folder, env=env, capture_output=True, text=True,
                             timeout=900)
    return json.loads(results.read_text()), process.stdout


def test_a_component_left_as_the_todo_is_not_attempted(tmp_path, sandboxed):
    """kfp_basic_pipeline written in full but for `reverse`, whose body is the starter's raise: every test that
    runs the pipeline is "not attempted" (kind not_attempted, `○ … (not attempted)` in `hml check`), the
    compile test still passes, and the summary counts the parts not attempted."""
    exercise = COURSE.exercise("kfp_basic_pipeline")
    lines = exercise.reference.read_text().splitlines()
    reverse = next(n for n in ast.parse("\n".join(lines)).body if isinstance(n, ast.FunctionDef) and n.name == "reverse")
    body_start, body_end = reverse.body[0].lineno - 1, reverse.end_lineno
    todo = "\n".join(lines[:body_start] + ['    raise NotImplementedError("reverse: see README")'] + lines[body_end:])
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "pipeline.py").write_text(todo)
    env = dict(os.environ, HML_CACHE_DIR=str(tmp_path / "cache"), COLUMNS="200")
    data, out = _check(folder, exercise.id, env)
    kinds = {t["name"]: t["extra_data"]["kind"] for t in data["tests"]}
    assert "not_attempted" in kinds.values() and "passed" in kinds.values(), kinds
    assert set(kinds.values()) <= {"passed", "not_attempted"}, kinds
    not_attempted = sum(k == "not_attempted" for k in kinds.values())
    assert f"({not_attempted} not attempted yet)" in out and "(not attempted)" in out, out


def test_the_learners_feedback_says_not_attempted(grade, course):
    """Graded with its hidden tests, the hybrid_placement starter scores 0 and every test is not attempted (the
    gradebook's kind); the learner's feedback says so: Coursera's summary marks each row `[not attempted]`,
    Gradescope (which knows only passed and failed) opens each public test's output with it, and hidden tests
    still show no output at all."""
    from grader.platforms import learner_view
    from grader.platforms.gradescope import results_json

    exercise = course.exercise("hybrid_placement")
    result = grade(exercise.id, exercise.starter)
    assert result.score == 0 and result.tests
    assert {t.kind.value for t in result.tests} == {"not_attempted"}
    summary = learner_view.summary(result)
    assert summary.count("[not attempted]") == len(result.tests) and "[failed]" not in summary
    tests = results_json(result)["tests"]
    assert all(t["output"].startswith("**Not attempted yet**") for t in tests if t["visibility"] == "visible")
    assert all(t["output"] == "" for t in tests if t["visibility"] != "visible")
