"""Gradescope autograder: the zip, and `hml gradescope run` on a fake /autograder tree (real gradings)."""
from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.platforms import gradescope

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "hybrid_placement"
HOSTILE = ROOT / "tests" / "hostile"
VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}
MAX_RESULTS_BYTES = 1024 * 1024


def _autograder(tmp_path: Path, files: dict[str, str | bytes], hidden_as: str = "hidden") -> Path:
    """An /autograder tree as Gradescope sets it up: source/ (our config), submission/, submission_metadata.json."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "source" / gradescope.CONFIG_FILE).write_text(json.dumps({"exercise": EXERCISE, "hidden_as": hidden_as}))
    (root / "submission").mkdir()
    for name, content in files.items():
        (root / "submission" / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "submission_metadata.json").write_text(json.dumps({"id": 123456, "users": [{"name": "A", "id": 1}]}))
    return root


def _run(root: Path, sandboxed) -> tuple[int, dict | None]:
    result = CliRunner().invoke(main, ["gradescope", "run", "--root", str(root), "--sandbox", sandboxed.value])
    out = root / "results" / "results.json"
    return result.exit_code, (json.loads(out.read_text()) if out.is_file() else None)


def _check_spec(data: dict, hidden_as: str) -> None:
    """results.json to Gradescope's specification, with our visibility mapping and no hidden test output."""
    assert isinstance(data["score"], float) and isinstance(data["output"], str)
    assert data["output_format"] == "md" and data["visibility"] == "visible"
    assert data["stdout_visibility"] == "hidden"
    assert isinstance(data["execution_time"], float)
    assert data["tests"], "every test is listed"
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["name_format"] == "md" and test["output_format"] == "md"
        assert test["visibility"] in VISIBILITIES and isinstance(test["output"], str)
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
    assert visible and hidden and all(t["visibility"] == hidden_as for t in hidden)
    assert all(t["output"] == "" for t in hidden), "hidden tests are pass/fail only"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert len(json.dumps(data).encode()) <= MAX_RESULTS_BYTES


@pytest.fixture(scope="module")
def reference() -> str:
    return (ROOT / "solutions" / EXERCISE / "placement.py").read_text()


def test_module_notebook_and_zip_earn_full_marks(tmp_path, sandboxed, reference):
    """A module, a notebook and a zip in /autograder/submission/ are graded alike: full marks, to the spec."""
    notebook = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(reference)]))
    archive = tmp_path / "src" / "work.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("placement.py", reference)
    for name, content in (("placement.py", reference), ("placement.ipynb", notebook),
                          ("work.zip", archive.read_bytes())):
        root = _autograder(tmp_path / name.replace(".", "-"), {name: content})
        code, data = _run(root, sandboxed)
        assert code == 0 and data is not None, name
        _check_spec(data, "hidden")
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) == 31, name
        assert "leaderboard" not in data


@pytest.mark.parametrize("hidden_as", ["after_due_date", "after_published"])
def test_hidden_tests_take_the_build_time_visibility(tmp_path, sandboxed, hidden_as):
    """Hidden tests get the visibility chosen at build time (hiding the total until then); public ones stay visible;
    a public failure shows its message as a code block, a hidden one shows nothing."""
    root = _autograder(tmp_path, {"placement.py": (HOSTILE / "leak_inputs.py").read_text()}, hidden_as)
    code, data = _run(root, sandboxed)
    assert code == 0 and data is not None
    _check_spec(data, hidden_as)
    assert data["score"] == 0.0
    public_failures = [t for t in data["tests"] if t["visibility"] == "visible" and t["status"] == "failed"]
    assert public_failures and all(t["output"].startswith("```") for t in public_failures)
    assert "LEAK" in public_failures[0]["output"]  # the learner's own message about a public input


def test_refused_submission_scores_zero_with_the_reason(tmp_path, sandboxed):
    """Nothing gradable in the submission: results.json with score 0 and an output saying why."""
    root = _autograder(tmp_path, {"readme.txt": "see attached", "helper.py": "x = 1\n"})
    code, data = _run(root, sandboxed)
    assert code == 0 and data is not None
    _check_spec(data, "hidden")
    assert data["score"] == 0.0 and "could not be graded" in data["output"] and "placement.py" in data["output"]


def test_hostile_submission_cannot_plant_results(tmp_path, sandboxed):
    """write_output aimed at /autograder/results: the results are the grader's, nothing is planted."""
    root = tmp_path / "autograder"
    attack = (HOSTILE / "write_output.py").read_text().replace("{{OUTPUT}}", str(root / "results")) \
        .replace("{{SOLUTIONS}}", str(root / "source"))
    _autograder(tmp_path, {"placement.py": attack})
    code, data = _run(root, sandboxed)
    assert code == 0 and data is not None
    _check_spec(data, "hidden")
    assert data["score"] == 0.0
    assert not (root / "results" / "planted.txt").exists() and not (root / "source" / "planted.txt").exists()
    assert not (root / "results" / "write_output").exists()


def test_grader_failure_writes_no_results_and_exits_nonzero(tmp_path, sandboxed):
    """A broken autograder configuration is the grader's fault: no results.json (no score, rather than 0), exit 1."""
    root = _autograder(tmp_path, {"placement.py": "x = 1\n"})
    (root / "source" / gradescope.CONFIG_FILE).write_text(json.dumps({"exercise": "no_such_exercise"}))
    code, data = _run(root, sandboxed)
    assert code == 1 and data is None


def test_leaderboard_entry_from_the_published_metric(tmp_path):
    """mobile_budget's results carry a leaderboard entry: model size in bytes from the metric, ascending."""
    from grader.record.results import GradeResult, TestResult

    tests = [TestResult("mlp", "exercises/mobile_budget/test_public.py::t", 2, 2, "passed", "visible")]
    data = gradescope.results_json(GradeResult("s", "mobile_budget", tests, metrics={"model_bytes": 5120.0}))
    assert data["leaderboard"] == [{"name": "Model size (bytes)", "value": 5120, "order": "asc"}]
    assert "leaderboard" not in gradescope.results_json(GradeResult("s", "mobile_budget", tests))


def test_mobile_budget_reference_gets_a_leaderboard_entry(tmp_path, course, sandboxed):
    """A real grading of mobile_budget's public tests publishes model_bytes; results.json ranks it, ascending."""
    from grader.grading.run import grade_one

    exercise = course.exercise("mobile_budget")
    result = grade_one(exercise, exercise.reference, "ref", tmp_path / "results.json", course=course,
                       sandbox=sandboxed, include_hidden=False)
    assert result.error is None and result.score == result.max_score > 0
    board = gradescope.results_json(result)["leaderboard"]
    assert board == [{"name": "Model size (bytes)", "value": int(result.metrics["model_bytes"]), "order": "asc"}]
    assert 1000 < board[0]["value"] < 1_000_000


def test_markdown_in_names_and_messages_is_shown_literally():
    """Learner text cannot become links or HTML in Gradescope's Markdown: names escaped, messages fenced."""
    assert gradescope.md_escape("[x](http://e) <b>") == "\\[x\\](http://e) \\<b\\>"
    block = gradescope.md_block("a ``` b")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_zip_has_scripts_executable_config_and_only_that_exercise(tmp_path):
    """setup.sh and run_autograder at the zip's root, executable (permission bits); the exercise and hidden-as
    choice recorded; the repository's constraints.txt, which setup.sh installs with; the course source with that
    exercise's solutions, no other exercise."""
    out = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", str(out), "-e", EXERCISE, "--hidden-as",
                                       "after_due_date"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        for script in ("setup.sh", "run_autograder"):
            mode = infos[script].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & stat.S_IXUSR and mode & stat.S_IXOTH, script
            assert archive.read(script).startswith(b"#!")
        assert b"hml gradescope run" in archive.read("run_autograder")
        setup = archive.read("setup.sh").decode()
        assert "bubblewrap" in setup and "-c \"$SOURCE/constraints.txt\"" in setup
        assert json.loads(archive.read(gradescope.CONFIG_FILE)) == {"exercise": EXERCISE,
                                                                    "hidden_as": "after_due_date"}
        assert b"\npytest==" in archive.read("constraints.txt")
        assert archive.read("constraints.txt") == (ROOT / "constraints.txt").read_bytes()  # the repository's pins
        assert f"course/solutions/{EXERCISE}/test_hidden.py" in infos
        assert f"course/exercises/{EXERCISE}/test_public.py" in infos and "course/pyproject.toml" in infos
        exercises = {name.split("/")[2] for name in infos if name.startswith("course/exercises/")}
        assert exercises == {EXERCISE}
    bad = CliRunner().invoke(main, ["gradescope", "build", str(out), "-e", "no_such"])
    assert bad.exit_code != 0 and "no exercise" in bad.output
