"""The grading engine end to end: the CLI, results files, refusals, notebooks, the wire."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.errors import LearnerError, ModuleImportFailed
from grader.sandbox import wire
from grader.sandbox.proxy import Learner, WorkerSpec

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]


def _hml(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def test_help_imports_no_heavy_library():
    """`hml --help` and importing the CLI stay free of TensorFlow, kfp and aiplatform."""
    code = ("import sys, grader.cli\n"
            "from click.testing import CliRunner\n"
            "CliRunner().invoke(grader.cli.main, ['--help'])\n"
            "print([m for m in ('tensorflow', 'kfp', 'google.cloud.aiplatform', 'keras') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_grade_cli_writes_results_per_submission(tmp_path):
    """`hml grade` writes DIR/<name>/results.json in Gradescope's shape and prints a summary."""
    exercise = ROOT / "exercises" / "hybrid_placement"
    out = _hml("grade", "--exercise", "hybrid_placement", "--output-dir", str(tmp_path),
               str(ROOT / "solutions" / "hybrid_placement" / "placement.py"), str(exercise / "placement.py"))
    assert out.returncode == 0, out.stderr
    assert "Grading summary" in out.stdout
    data = json.loads((tmp_path / "solutions-hybrid_placement-placement" / "results.json").read_text())
    assert {"score", "execution_time", "tests"} <= set(data)
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(test)
    starter = json.loads((tmp_path / "exercises-hybrid_placement-placement" / "results.json").read_text())
    assert starter["score"] < data["score"]


def test_grade_cli_rejects_unknown_exercise_and_missing_path(tmp_path):
    """An unknown exercise or a missing path is a clear error with a non-zero exit."""
    out = _hml("grade", "--exercise", "hybrid_placment", str(ROOT / "README.md"))
    assert out.returncode != 0 and "hybrid_placement" in out.stderr  # suggests the right id
    out = _hml("grade", "--exercise", "hybrid_placement", str(tmp_path / "nope.py"))
    assert out.returncode != 0 and "does not exist" in out.stderr


def test_grading_refuses_without_sandbox_unless_told(tmp_path):
    """Without bubblewrap, --sandbox bwrap refuses, auto falls back to Landlock, and only --unsandboxed
    (or --sandbox none) runs learner code unconfined."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    env.pop("HML_SANDBOX", None)
    submission = str(ROOT / "solutions" / "hybrid_placement" / "placement.py")
    out = _hml("grade", "-e", "hybrid_placement", "-o", str(tmp_path), "--sandbox", "bwrap", submission, env=env)
    assert out.returncode != 0 and "bubblewrap" in out.stderr
    out = _hml("grade", "-e", "hybrid_placement", "-o", str(tmp_path / "auto"), submission, env=env)
    assert out.returncode == 0, out.stderr
    recorded = json.loads((tmp_path / "auto" / "placement" / "results.json").read_text())
    assert recorded["extra_data"]["sandbox"]["kind"] == "landlock" and recorded["score"] == 31
    out = _hml("grade", "-e", "hybrid_placement", "-o", str(tmp_path), "--unsandboxed", submission, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "placement" / "results.json").read_text())["extra_data"]["sandboxed"] is False


def test_refused_submission_is_a_result_not_a_crash(grade, tmp_path):
    """A zip-slip archive is refused: every test fails with the reason, and results are written."""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../placement.py", "def place(w):\n    return {}\n")
    result = grade("hybrid_placement", archive)
    assert result.refused and "outside" in result.refused
    assert result.score == 0 and result.tests
    assert all("refused" in t.output for t in result.tests)


def test_notebook_syntax_error_names_the_cell(grade, tmp_path):
    """A syntax error in a notebook is reported with the cell it is in."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("answers"), nbformat.v4.new_code_cell("import math"),
                      nbformat.v4.new_code_cell("def place(workload):\n    return {'a': }")]
    path = tmp_path / "placement.ipynb"
    path.write_text(nbformat.writes(notebook))
    result = grade("hybrid_placement", path)
    assert result.score == 0
    visible = [t for t in result.tests if t.visibility == "visible"]
    assert visible and all("cell 3, line 2" in t.output for t in visible), visible[0].output
    # Hidden tests say so in a fixed sentence: the message is the learner's own text.
    assert all("could not be imported" in t.output for t in result.tests if t.visibility != "visible")


def test_notebook_and_module_get_the_same_grade(grade, tmp_path, course):
    """The reference solution as a notebook earns what it earns as a module."""
    from grader.intake.notebooks import module_to_notebook

    reference = course.exercise("hybrid_placement").reference
    path = tmp_path / "placement.ipynb"
    path.write_text(nbformat.writes(module_to_notebook(reference.read_text())))
    assert grade("hybrid_placement", path).score == grade("hybrid_placement", reference).score > 0


@pytest.fixture
def module_learner(tmp_path, sandboxed):
    """A worker over a small module, for exercising the boundary directly."""
    folder = tmp_path / "module"
    folder.mkdir()
    (folder / "mod.py").write_text(
        "import numpy as np\n"
        "def echo(x):\n    return x\n"
        "def arr(n):\n    return np.arange(n, dtype='float32').reshape(n, 1)\n"
        "def obj():\n    return object()\n"
        "def strs():\n    return np.array(['a'], dtype=object)\n"
        "def fail():\n    raise KeyError('connectivity')\n")
    learner = Learner(WorkerSpec(module_dir=folder, module_name="mod", sandbox=sandboxed, call_timeout=20))
    yield learner
    learner.close()


def test_data_crosses_as_fresh_builtins(module_learner):
    """JSON values, bytes, tuples and numeric arrays cross the boundary intact."""
    value = {"a": [1, 2.5, None, True, "s"], "b": b"\x00\x01", "t": (1, "x"), "f": float("nan"), "__eq__": 1}
    back = module_learner.echo(value)
    assert back["a"] == value["a"] and back["b"] == value["b"] and back["t"] == (1, "x")
    assert back["__eq__"] == 1 and np.isnan(back["f"])
    array = module_learner.arr(3)
    assert array.dtype == np.float32 and array.shape == (3, 1) and array[2, 0] == 2.0


def test_objects_do_not_cross(module_learner):
    """Arbitrary objects and object arrays are refused in the worker, with the type named."""
    with pytest.raises(LearnerError, match="object"):
        module_learner.obj()
    with pytest.raises(LearnerError, match="dtype"):
        module_learner.strs()


def test_learner_exceptions_match_builtin_types(module_learner):
    """A learner's KeyError can be caught as KeyError by a test, and names the function."""
    with pytest.raises(KeyError) as caught:
        module_learner.fail()
    assert isinstance(caught.value, LearnerError) and caught.value.function == "fail"
    assert "connectivity" in caught.value.message


def test_decoder_refuses_forged_frames():
    """A worker that forges object arrays or build requests is refused by the trusted decoder."""
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": 0, "dtype": "|O", "shape": [1]}, [b"\0" * 8])
    with pytest.raises(wire.WireError):
        wire.decode({"__build__": "keras.classifier", "args": [], "kwargs": {}}, [])
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": 0, "dtype": "<f4", "shape": [4]}, [b"\0" * 4])


def test_import_failure_fails_every_call_the_same_way(tmp_path, sandboxed):
    """A module that cannot import is reported once per call, without restarting workers."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "mod.py").write_text("import not_a_module_anywhere\n")
    learner = Learner(WorkerSpec(module_dir=folder, module_name="mod", sandbox=sandboxed))
    for _ in range(2):
        with pytest.raises(ModuleImportFailed, match="not_a_module_anywhere"):
            learner.anything()
    learner.close()


def test_notebook_tracebacks_name_the_cell(grade, course, tmp_path):
    """A visible test's traceback points at the notebook cell, not at the sandbox's module path."""
    from grader.intake.notebooks import module_to_notebook

    starter = course.exercise("hybrid_placement").starter
    path = tmp_path / "placement.ipynb"
    path.write_text(nbformat.writes(module_to_notebook(starter.read_text())))
    outputs = [t.output for t in grade("hybrid_placement", path).tests if t.visibility == "visible"]
    assert any('File "placement.ipynb", cell' in o for o in outputs), outputs[0]
    assert not any("/submission/" in o for o in outputs)


def test_submission_names_stay_short_and_distinct(tmp_path):
    """A module and its notebook keep their suffixes; same-named files get their folder's name."""
    from grader.grading.run import submission_names

    for folder in ("ada", "ben"):
        (tmp_path / folder).mkdir()
        for name in ("pipeline.py", "pipeline.ipynb"):
            (tmp_path / folder / name).write_text("")
    (tmp_path / "solo.py").write_text("")
    paths = [tmp_path / "ada" / "pipeline.py", tmp_path / "ada" / "pipeline.ipynb", tmp_path / "solo.py"]
    assert submission_names(paths) == ["pipeline.py", "pipeline.ipynb", "solo"]
    assert submission_names([tmp_path / "ada" / "pipeline.py", tmp_path / "ben" / "pipeline.py"]) == [
        "ada-pipeline", "ben-pipeline"]
