"""Coursera custom grader: the build context, and `hml coursera run` on a fake /shared tree (real gradings)."""
from __future__ import annotations

import html
import json
import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.platforms import coursera

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "hybrid_placement"
HOSTILE = ROOT / "tests" / "hostile"
MAX_BYTES = 64 * 1024


def _shared(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    """A /shared tree as Coursera mounts it: submission/ holding ``files``, read-only."""
    shared = tmp_path / "shared"
    submission = shared / "submission"
    submission.mkdir(parents=True)
    for name, content in files.items():
        path = submission / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for path in [*submission.rglob("*"), submission]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return shared


def _run(shared: Path, sandboxed, *args: str):
    result = CliRunner().invoke(main, ["coursera", "run", "--shared", str(shared), "--sandbox", sandboxed.value,
                                       *args], env={"partId": EXERCISE})
    return result


def _check_spec(shared: Path, stdout: str) -> dict:
    """feedback.json as Coursera reads it: the fields, their types, the score's range, the size limit."""
    data = json.loads((shared / "feedback.json").read_text())
    assert json.loads(stdout.strip().splitlines()[-1]) == data, "stdout's only line must be the feedback JSON"
    assert len(stdout.strip().splitlines()) == 1, f"stdout must hold the feedback JSON only: {stdout!r}"
    assert set(data) <= {"fractionalScore", "feedback", "feedbackType"}
    assert isinstance(data["feedback"], str) and data["feedback"]
    assert data["feedbackType"] == "HTML"
    if "fractionalScore" in data:
        assert isinstance(data["fractionalScore"], float) and 0.0 <= data["fractionalScore"] <= 1.0
    assert len((shared / "feedback.json").read_bytes()) <= MAX_BYTES
    page = (shared / "htmlFeedback.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and len(page.encode()) <= MAX_BYTES
    return data


@pytest.fixture(scope="module")
def reference() -> str:
    return (ROOT / "solutions" / EXERCISE / "placement.py").read_text()


def test_module_submission_gets_full_score_and_a_learner_page(tmp_path, sandboxed, reference):
    """The reference module in /shared/submission/ scores 1.0; the page lists every test with pass/fail and points."""
    shared = _shared(tmp_path, {"placement.py": reference})
    result = _run(shared, sandboxed)
    assert result.exit_code == 0, result.output
    data = _check_spec(shared, result.stdout)
    assert data["fractionalScore"] == 1.0
    page = (shared / "htmlFeedback.html").read_text()
    assert page.count('class="passed"') == 20 and "(hidden)" in page and "(public)" in page


def test_notebook_and_zip_submissions_are_graded_like_the_module(tmp_path, sandboxed, reference):
    """A single notebook, and a single zip holding the module in a folder, are what the learner sent: both score 1.0."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)])
    archive = tmp_path / "src" / "work.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("work/placement.py", reference)
    for name, content in (("placement.ipynb", nbformat.writes(notebook)), ("work.zip", archive.read_bytes())):
        shared = _shared(tmp_path / name.replace(".", "-"), {name: content})
        result = _run(shared, sandboxed)
        assert result.exit_code == 0, result.output
        assert _check_spec(shared, result.stdout)["fractionalScore"] == 1.0, name


def test_refused_submission_scores_zero_and_says_why(tmp_path, sandboxed):
    """A submission intake refuses (no placement.py anywhere) is a graded 0 whose message tells the learner why."""
    shared = _shared(tmp_path, {"notes.txt": "hello", "other.py": "x = 1\n"})
    result = _run(shared, sandboxed)
    assert result.exit_code == 0, result.output
    data = _check_spec(shared, result.stdout)
    assert data["fractionalScore"] == 0.0
    assert "could not be graded" in data["feedback"] and "placement.py" in data["feedback"]


def test_crashing_submission_is_graded_zero_with_a_message(tmp_path, sandboxed):
    """A module that exits while being imported is graded (0), and the page tells the learner what happened."""
    shared = _shared(tmp_path, {"placement.py": (HOSTILE / "exit_at_import.py").read_text()})
    result = _run(shared, sandboxed)
    assert result.exit_code == 0, result.output
    assert _check_spec(shared, result.stdout)["fractionalScore"] == 0.0
    assert "stopped during starting up" in (shared / "htmlFeedback.html").read_text()


def test_hostile_submission_cannot_show_hidden_messages_or_write_beside_feedback(tmp_path, sandboxed):
    """leak_inputs: hidden tests show pass/fail only (none of their messages reach the page or the text);
    write_output aimed at /shared plants nothing there."""
    shared = _shared(tmp_path, {"placement.py": (HOSTILE / "leak_inputs.py").read_text()})
    feedback = coursera.run(shared, EXERCISE, sandbox=sandboxed.value)
    assert feedback.graded and feedback.data["fractionalScore"] == 0.0
    hidden = [t for t in feedback.result.tests if t.visibility != "visible"]
    assert hidden and all(t.output for t in hidden)
    page = (shared / "htmlFeedback.html").read_text()
    for test in hidden:
        assert html.escape(test.output.strip()) not in page and test.output.strip() not in feedback.data["feedback"]
    assert page.count("<pre>") == len([t for t in feedback.result.tests if t.visibility == "visible"])

    attack = (HOSTILE / "write_output.py").read_text().replace("{{OUTPUT}}", str(tmp_path / "w" / "shared")) \
        .replace("{{SOLUTIONS}}", str(tmp_path / "w" / "shared"))
    shared = _shared(tmp_path / "w", {"placement.py": attack})
    feedback = coursera.run(shared, EXERCISE, sandbox=sandboxed.value)
    assert feedback.graded and not (shared / "planted.txt").exists()
    assert not (shared / "write_output").exists()
    assert json.loads((shared / "feedback.json").read_text()) == feedback.data


def test_grader_failure_gives_no_score_and_exits_nonzero(tmp_path, sandboxed):
    """A part id the mapping does not know is the grader's fault: feedback.json without fractionalScore, exit 1."""
    shared = _shared(tmp_path, {"placement.py": "x = 1\n"})
    parts = tmp_path / "parts.json"
    parts.write_text(json.dumps({"abcde": EXERCISE}))
    result = _run(shared, sandboxed, "--part-id", "zzzzz", "--parts", str(parts))
    assert result.exit_code == 1
    data = _check_spec(shared, result.stdout)
    assert "fractionalScore" not in data and "not in your code" in data["feedback"]


def test_feedback_stays_under_64_kb(tmp_path, sandboxed):
    """A public test's huge message is cut so feedback.json and the page stay under Coursera's 64 KB, with a note."""
    source = "def place(workload):\n    raise ValueError('x' * 7000 + ' ' + 'y ' * 3000)\n"
    shared = _shared(tmp_path, {"placement.py": source})
    feedback = coursera.run(shared, EXERCISE, sandbox=sandboxed.value)
    page = (shared / "htmlFeedback.html").read_text()
    assert len(page.encode()) <= MAX_BYTES and len((shared / "feedback.json").read_bytes()) <= MAX_BYTES
    assert feedback.data["fractionalScore"] == 0.0


def test_long_messages_are_shortened_with_a_note():
    """When the page would pass 64 KB, messages are shortened and the page says so (many tests, long messages)."""
    from grader.record.results import GradeResult, TestResult

    tests = [TestResult(f"test {i}", f"t::{i}", 0, 1, "failed", "visible", "m" * 7000) for i in range(40)]
    feedback = coursera.feedback_for(GradeResult("s", EXERCISE, tests))
    assert len(feedback.html.encode()) <= MAX_BYTES and "shortened" in feedback.html
    assert len(json.dumps(feedback.data).encode()) <= MAX_BYTES


def test_build_context_has_everything_the_image_needs(tmp_path):
    """Dockerfile (Python 3.11, non-root USER, pinned install), executable entrypoint setting the grader's
    environment, a part-id mapping covering every exercise, the repository's constraints.txt (what `make install` and
    CI install with) used by the install, and the course source with solutions."""
    out = tmp_path / "ctx"
    result = CliRunner().invoke(main, ["coursera", "build", str(out)])
    assert result.exit_code == 0, result.output
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile and "\nUSER grader" in dockerfile
    assert "-c /opt/hml/constraints.txt" in dockerfile and "ENTRYPOINT" in dockerfile
    entrypoint = out / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    script = entrypoint.read_text()
    assert "export HML_COURSE_ROOT=" in script and "hml coursera run" in script and "partId" in script
    ids = sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.toml"))
    parts = json.loads((out / "parts.json").read_text())
    assert sorted(parts.values()) == ids and all(k == v for k, v in parts.items())
    pins = (out / "constraints.txt").read_text()
    assert pins == (ROOT / "constraints.txt").read_text()  # the pins `make install` and CI use, not new ones
    for package in ("click", "pytest", "kfp", "numpy"):
        assert f"\n{package}==" in pins, package
    pinned = {line.split("==")[0].replace("_", "-").lower() for line in pins.splitlines() if "==" in line}
    assert "hml-grader" not in pinned and "\n-e " not in pins  # the project itself is the course copy, unpinned
    for exercise in ids:
        assert (out / "course" / "exercises" / exercise / "exercise.toml").is_file()
        assert (out / "course" / "solutions" / exercise).is_dir()
    assert (out / "course" / "grader" / "cli.py").is_file() and (out / "course" / "pyproject.toml").is_file()
    assert not (out / "course" / "quizzes").exists() and not list((out / "course").rglob("__pycache__"))


def test_rebuild_keeps_edited_part_ids_and_limits_exercises(tmp_path):
    """--exercise limits the image; an instructor's part ids in parts.json survive a rebuild."""
    out = tmp_path / "ctx"
    assert CliRunner().invoke(main, ["coursera", "build", str(out), "-e", EXERCISE]).exit_code == 0
    assert json.loads((out / "parts.json").read_text()) == {EXERCISE: EXERCISE}
    (out / "parts.json").write_text(json.dumps({"Xy12Z": EXERCISE}))
    result = CliRunner().invoke(main, ["coursera", "build", str(out), "-e", EXERCISE, "-e", "kfp_sweep"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "parts.json").read_text()) == {"Xy12Z": EXERCISE, "kfp_sweep": "kfp_sweep"}
    assert sorted(p.name for p in (out / "course" / "exercises").iterdir()) == [EXERCISE, "kfp_sweep"]
    bad = CliRunner().invoke(main, ["coursera", "build", str(tmp_path / "x"), "-e", "no_such"])
    assert bad.exit_code != 0 and "no exercise" in bad.output
