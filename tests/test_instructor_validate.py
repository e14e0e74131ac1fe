"""`hml validate`: a sound exercise passes; each kind of broken exercise is named, and the exit is non-zero."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]


def _hml(*args: str, root: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    if root is not None:
        env["HML_COURSE_ROOT"] = str(root)
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def test_validate_passes_on_a_sound_exercise(sandboxed):
    """`hml validate hybrid_placement` grades reference and starters and exits 0 with a table."""
    out = _hml("validate", "hybrid_placement")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Course validation" in out.stdout and "all OK" in out.stdout
    row = next(line for line in out.stdout.splitlines() if "hybrid_placement" in line)
    assert "31/31" in row and "0/31" in row and "OK" in row


def _copy_exercise(course: Path, source: str, new_id: str) -> tuple[Path, Path]:
    exercise = course / "exercises" / new_id
    solution = course / "solutions" / new_id
    shutil.copytree(ROOT / "exercises" / source, exercise, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions" / source, solution, ignore=shutil.ignore_patterns("__pycache__"))
    return exercise, solution


@pytest.fixture
def broken_course(tmp_path):
    """A course of four copies of hybrid_placement, three of them broken in different ways."""
    course = tmp_path / "course"
    _copy_exercise(course, "hybrid_placement", "hp_sound")

    # The starter already solves the exercise (module and notebook).
    exercise, solution = _copy_exercise(course, "hybrid_placement", "hp_solved_starter")
    shutil.copyfile(solution / "placement.py", exercise / "placement.py")
    import nbformat

    from grader.intake.notebooks import module_to_notebook

    (exercise / "placement.ipynb").write_text(
        nbformat.writes(module_to_notebook((solution / "placement.py").read_text())) + "\n")

    # No statement, and a notebook that no longer matches its module.
    exercise, _ = _copy_exercise(course, "hybrid_placement", "hp_missing_files")
    (exercise / "README.md").unlink()
    with (exercise / "placement.py").open("a") as stream:
        stream.write("\n# an edit made after the notebook was generated\n")

    # A reference that fails a hidden test, a hidden test worth nothing, one marked visible.
    exercise, solution = _copy_exercise(course, "hybrid_placement", "hp_bad_tests")
    reference = solution / "placement.py"
    reference.write_text(reference.read_text().replace("LATENCY_LIMIT_MS = 100", "LATENCY_LIMIT_MS = 101"))
    (solution / "test_extra.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.points(0)\n"
        "def test_worth_nothing(learner):\n"
        '    """A test that counts for nothing"""\n'
        "    assert learner.defines('place')\n\n"
        "@pytest.mark.points(1)\n"
        "@pytest.mark.visibility('visible')\n"
        "def test_shown_to_learners(learner):\n"
        '    """A hidden test that shows its output"""\n'
        "    assert learner.defines('place')\n")
    return course


def test_validate_names_every_problem_and_fails(broken_course, sandboxed):
    """A starter that earns full marks, missing and stale files, a failing reference, a test worth
    nothing and a hidden test marked visible are each reported; the sound copy passes; exit 1."""
    out = _hml("validate", "--jobs", "2", root=broken_course)
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    problems = {line.split(":", 1)[0].split()[-1]: [] for line in text.splitlines() if line.startswith("✗")}
    for line in text.splitlines():
        if line.startswith("✗"):
            problems[line.split(":", 1)[0].split()[-1]].append(line.split(":", 1)[1])
    assert "hp_sound" not in problems, problems
    solved = " ".join(problems.get("hp_solved_starter", []))
    assert "starter module earns full marks" in solved and "starter notebook earns full marks" in solved
    assert "fails no hidden test" in solved
    missing = " ".join(problems.get("hp_missing_files", []))
    assert "statement (README.md) is missing" in missing and "out of date" in missing
    bad = " ".join(problems.get("hp_bad_tests", []))
    assert re.search(r"the reference earns \d+/\d+; failing: .*latency", bad), bad
    assert "'A test that counts for nothing' is worth no points" in bad
    assert "'A hidden test that shows its output' is marked visible" in bad
    table_rows = [line for line in out.stdout.splitlines() if line.strip().startswith("hp_")]
    assert sum("FAIL" in row for row in table_rows) == 3 and len(table_rows) == 4
