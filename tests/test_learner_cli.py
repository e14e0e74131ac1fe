"""The learner's workflow through the real CLI: `hml start`, `hml check`, `hml list`.

Checks run the real grader (sandboxed worker, public tests only) on the
hybrid_placement exercise, the fastest one; the other exercises' notebooks
and verdicts are covered in test_learner_notebooks.py.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.model import Course
from grader.intake.notebooks import module_to_notebook
from grader.course.points import (
    Unresolved, collected_points, collected_points_by_file, exercise_points, file_points, files_points,
)
from grader.learner_tools.workspace import MARKER, LastCheck, LearnerWorkspace

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
PLACEMENT = COURSE.exercise("hybrid_placement")


@pytest.fixture
def hml(tmp_path, monkeypatch, sandboxed):
    """Run `hml ...` in a fresh folder (the learner's), with a reference cache of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HML_CACHE_DIR", str(tmp_path / ".cache"))
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        result.text = " ".join(result.output.split())  # the output without rich's line wrapping
        return result

    return run


def _reference_notebook() -> str:
    return nbformat.writes(module_to_notebook(PLACEMENT.reference.read_text()))


def test_start_then_check_a_module(hml, tmp_path):
    """`hml start` copies statement, starter and public tests; `hml check` fails the starter with hints
    (exit 1) and passes the reference (exit 0); the marker keeps the last check, `hml list` shows it."""
    out = hml("start", "hybrid_placement")
    assert out.exit_code == 0, out.output
    workspace = tmp_path / "hybrid_placement"
    assert (workspace / "README.md").read_bytes() == PLACEMENT.statement.read_bytes()
    assert (workspace / "placement.py").read_bytes() == PLACEMENT.starter.read_bytes()
    assert (workspace / "test_public.py").is_file() and (workspace / MARKER).is_file()
    assert "hml check" in out.text

    os.chdir(workspace)
    out = hml("check")  # exercise and file come from the workspace
    assert out.exit_code == 1, out.output
    assert "○" in out.text and "0/2" in out.text and "0/6 points" in out.text and "✗" not in out.text
    assert "0/5 public tests pass (0/6 points) (5 not attempted yet)" in out.text  # every part is still the TODO
    # the author's message, the learner's own frames (by file name) and the hint about the TODO
    assert "validation counts once place() accepts a valid workload, but it raised NotImplementedError" in out.text
    assert 'File "placement.py", line' in out.text and "/submission" not in out.text
    assert "grader/" not in out.text
    assert "still a TODO (README, section 'Invalid workloads')" in out.text
    last = LearnerWorkspace.load(workspace).last_check
    assert (last.score, last.max_score, last.passed, last.failed) == (0, 6, 0, 5)

    shutil.copy(PLACEMENT.reference, workspace / "placement.py")
    out = hml("check")
    assert out.exit_code == 0, out.output
    assert "✗" not in out.text and "5/5 public tests pass (6/6 points)" in out.text
    assert LearnerWorkspace.load(workspace).last_check.complete

    os.chdir(tmp_path)
    out = hml("list")
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "hybrid_placement" in line)
    assert "6/6" in row and "31 (6)" in row
    assert "not started" in next(line for line in out.output.splitlines() if "kfp_sweep" in line)


def test_start_then_check_a_notebook(hml, tmp_path):
    """`hml start --notebook` gives the starter notebook; `hml check` fails it naming notebook cells
    (exit 1) and passes the reference notebook (exit 0)."""
    out = hml("start", "hybrid_placement", "--notebook", "--dir", "work")
    assert out.exit_code == 0, out.output
    workspace = tmp_path / "work"
    assert not (workspace / "placement.py").exists()
    assert (workspace / "placement.ipynb").read_text() == PLACEMENT.starter_notebook.read_text()

    os.chdir(workspace)
    out = hml("check")
    assert out.exit_code == 1, out.output
    assert "Checking placement.ipynb" in out.text
    assert 'File "placement.ipynb", cell ' in out.text  # frames in the notebook's terms
    assert "still a TODO" in out.text

    (workspace / "placement.ipynb").write_text(_reference_notebook())
    out = hml("check")
    assert out.exit_code == 0, out.output
    assert "6/6 points" in out.text
    assert LearnerWorkspace.load(workspace).last_check.path == "placement.ipynb"


@pytest.mark.parametrize("notebook", [False, True], ids=["module", "notebook"])
def test_start_copies_the_files_the_statement_uses(hml, tmp_path, notebook):
    """`hml start` also copies the files an exercise declares (exercise.toml `files`): hybrid_portable_pipeline's
    README has the learner run `python lab_pipeline.py` in the workspace, and that works there."""
    import subprocess
    import sys

    exercise = COURSE.exercise("hybrid_portable_pipeline")
    assert [p.name for p in exercise.extra_files] == ["lab_pipeline.py"]
    out = hml("start", exercise.id, "--dir", "work", *(["--notebook"] if notebook else []))
    assert out.exit_code == 0, out.output
    workspace = tmp_path / "work"
    assert (workspace / "lab_pipeline.py").read_bytes() == (exercise.directory / "lab_pipeline.py").read_bytes()
    assert "lab_pipeline.py a file the statement uses" in out.text
    if notebook:
        return  # the same copy; compiling it once is enough
    run = subprocess.run([sys.executable, "lab_pipeline.py"], cwd=workspace, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "name: basic-pipeline" in (workspace / "lab_pipeline.yaml").read_text()


def test_start_never_overwrites_work_without_force(hml, tmp_path):
    """A second `hml start` leaves the learner's edited file alone; --force replaces it and keeps a .bak."""
    assert hml("start", "hybrid_placement").exit_code == 0
    module = tmp_path / "hybrid_placement" / "placement.py"
    module.write_text("# my work\n")
    out = hml("start", "hybrid_placement")
    assert out.exit_code != 0 and "placement.py" in out.text and "--force" in out.text
    assert module.read_text() == "# my work\n"
    # adding the notebook next to the module is not a conflict
    out = hml("start", "hybrid_placement", "--notebook")
    assert out.exit_code == 0, out.output
    assert module.read_text() == "# my work\n" and module.with_suffix(".ipynb").is_file()
    out = hml("start", "hybrid_placement", "--force")
    assert out.exit_code == 0, out.output
    assert module.read_bytes() == PLACEMENT.starter.read_bytes()
    assert module.with_name("placement.py.bak").read_text() == "# my work\n"
    # a folder that is another exercise's workspace is not taken over either
    out = hml("start", "kfp_sweep", "--dir", "hybrid_placement")
    assert out.exit_code != 0 and "hybrid_placement" in out.text


def test_check_finds_the_exercise_or_says_which(hml, tmp_path):
    """Outside a workspace, `hml check FILE` infers the exercise from a unique file name, asks when several
    exercises share it, and explains an unknown exercise."""
    shutil.copy(PLACEMENT.reference, tmp_path / "placement.py")
    out = hml("check", "placement.py")
    assert out.exit_code == 0, out.output
    assert "hybrid_placement" in out.text
    (tmp_path / "pipeline.py").write_text("x = 1\n")
    out = hml("check", "pipeline.py")
    assert out.exit_code != 0
    assert all(e in out.text for e in ("kfp_basic_pipeline", "kfp_sweep", "kfp_training_pipeline"))
    out = hml("check", "hybrid_placment", "placement.py")
    assert out.exit_code != 0 and "hybrid_placement" in out.text  # did you mean
    out = hml("check", "hybrid_placement", "missing.py")
    assert out.exit_code != 0 and "does not exist" in out.text


def test_list_points_match_pytest_collection():
    """`hml list` reads points from the tests' syntax tree: the same, file by file, as pytest collects."""
    files = [f for e in COURSE.exercises() for f in e.public_tests + e.hidden_tests]
    collected = collected_points_by_file(files)
    for path in files:
        assert file_points(path.read_text()) == collected[path.resolve()], path
    for exercise in COURSE.exercises():
        points = exercise_points(exercise)
        assert points.public == sum(collected[p.resolve()] for p in exercise.public_tests), exercise.id
        if exercise.hidden_tests:
            assert points.hidden == sum(collected[p.resolve()] for p in exercise.hidden_tests), exercise.id


def test_points_of_tests_ast_cannot_read_are_collected(tmp_path):
    """A parametrize over a computed list is counted by collecting with pytest, not guessed."""
    test_file = tmp_path / "test_dynamic.py"
    test_file.write_text(
        "import pytest\n"
        "CASES = [1, 2]\n"
        "@pytest.mark.points(2)\n"
        "@pytest.mark.parametrize('n', [i for i in range(3)])\n"
        "def test_computed(n):\n    pass\n\n"
        "@pytest.mark.points(1)\n"
        "@pytest.mark.parametrize('n', CASES)\n"
        "def test_named(n):\n    pass\n\n"
        "class TestGroup:\n"
        "    pytestmark = pytest.mark.points(5)\n"
        "    def test_inside(self):\n        pass\n")
    with pytest.raises(Unresolved):
        file_points(test_file.read_text())
    assert files_points([test_file]) == collected_points([test_file]) == 6 + 2 + 5
    readable = test_file.read_text().replace("[i for i in range(3)]", "[0, 1, 2]")
    assert file_points(readable) == 6 + 2 + 5


def test_list_in_a_learner_bundle_shows_public_points(tmp_path, monkeypatch):
    """Without the hidden tests (a learner's copy of the course), `hml list` shows the public points, marked."""
    course = tmp_path / "course"
    shutil.copytree(PLACEMENT.directory, course / "exercises" / "hybrid_placement")
    monkeypatch.setenv("HML_COURSE_ROOT", str(course))
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["list"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "hybrid_placement" in line)
    assert "? (6)*" in row and "hidden tests" in " ".join(out.output.split())


def test_workspace_marker_round_trips(tmp_path):
    """The marker is valid TOML whatever the path holds (quotes, backslashes, control characters)."""
    odd = 'we"ird\\name\t\x7f\u00e9.ipynb'
    workspace = LearnerWorkspace(tmp_path, "hybrid_placement", "placement.py", True)
    workspace.record(LastCheck(2.5, 6.0, 3, 2, "2026-01-02T03:04:05+00:00", odd, "note \"quoted\""))
    loaded = LearnerWorkspace.load(tmp_path)
    assert loaded.last_check == workspace.last_check and loaded.notebook is True
    assert LearnerWorkspace.find(tmp_path / "sub" / "file.py").exercise == "hybrid_placement"
    (tmp_path / MARKER).write_text("exercise = [broken")
    assert LearnerWorkspace.load(tmp_path) is None
