"""`hml check` explains the errors a beginner meets, in the course's terms.

Each submission below is real learner-like code checked through the real
CLI and grader; where mistakes are caught by different checks, one
submission carries several of them.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.model import Course
from grader.grading.explain import Source, explain, read_source, rewrite_frames
from grader.intake.notebooks import module_to_notebook

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)


@pytest.fixture
def hml(tmp_path, monkeypatch, sandboxed):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HML_CACHE_DIR", str(tmp_path / ".cache"))

    def run(*args: str):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        result.text = " ".join(result.output.split())  # the output without rich's line wrapping
        return result

    return run


def test_positional_component_call_and_missing_contract_function(hml, tmp_path):
    """Positional arguments to a KFP component are explained (keyword-only calls), at the learner's own
    line, and a contract function that is not defined is named before the tests run."""
    source = COURSE.exercise("kfp_basic_pipeline").reference.read_text()
    source = source.replace("concat(a=a, b=b)", "concat(a, b)")
    source = source.replace("def compile_pipeline(", "def compile(")
    (tmp_path / "pipeline.py").write_text(source)
    out = hml("check", "kfp_basic_pipeline", "pipeline.py")
    assert out.exit_code == 1, out.output
    assert "`compile_pipeline` is not defined" in out.text
    assert out.text.index("`compile_pipeline` is not defined") < out.text.index("✗")
    assert "keyword arguments only: write `concat(a=..., b=...)`" in out.text
    line = source.splitlines().index("    concat_task = concat(a, b)") + 1
    assert f'File "pipeline.py", line {line}, in basic_pipeline' in out.text
    assert "0/4 points" in out.text and "✓" not in out.text


def test_parallelism_passed_positionally_is_explained(hml, tmp_path):
    """`dsl.ParallelFor(items, 2)` (the README's warning) fails at import with kfp's bare TypeError at the
    @dsl.pipeline line; the check's feedback names the cause and the keyword form of the call."""
    source = COURSE.exercise("kfp_sweep").reference.read_text()
    source = source.replace("dsl.ParallelFor(learning_rates, parallelism=2)", "dsl.ParallelFor(learning_rates, 2)")
    (tmp_path / "pipeline.py").write_text(source)
    out = hml("check", "kfp_sweep", "pipeline.py")
    assert out.exit_code == 1, out.output
    assert "bad argument type for built-in operation" in out.text
    assert "second positional parameter of `dsl.ParallelFor` is the loop's `name`" in out.text
    assert "`dsl.ParallelFor(items, parallelism=2)`" in out.text


def test_syntax_errors_name_the_cell_and_line(hml, tmp_path):
    """A syntax error stops the check before any test, naming the notebook cell and the line in it
    (for a module, the line), with the offending line shown; the exit status is 1."""
    exercise = COURSE.exercise("hybrid_placement")
    notebook = module_to_notebook(exercise.reference.read_text().replace("def place(workload", "def place(workload:"))
    (tmp_path / "placement.ipynb").write_text(nbformat.writes(notebook))
    out = hml("check", "hybrid_placement", "placement.ipynb")
    assert out.exit_code == 1, out.output
    assert "SyntaxError at cell" in out.text and "no test was run" in out.text
    assert "def place(workload:" in out.text
    src = read_source(tmp_path / "placement.ipynb")
    with pytest.raises(SyntaxError) as error:
        compile(src.text, "placement.py", "exec")
    assert src.locate(error.value.lineno).startswith("cell ")
    assert f"SyntaxError at {src.locate(error.value.lineno)}:" in out.text

    (tmp_path / "placement.py").write_text("def place(w)\n    return {}\n")
    out = hml("check", "hybrid_placement", "placement.py")
    assert out.exit_code == 1 and "SyntaxError at line 1" in out.text


def test_syntax_caret_stands_under_the_notebooks_own_code(hml, tmp_path):
    """The caret under a notebook's syntax error points at the offending character of the notebook's code, also
    when the current folder holds the notebook (Python re-reads the error's line from a file of the given name,
    here the notebook's JSON, and would count the column in that line)."""
    bad = '    note = ("données hors ligne, " + "modèle" + )\n'
    source = COURSE.exercise("hybrid_placement").reference.read_text().replace(
        "    reasons = []\n", "    reasons = []\n" + bad)
    (tmp_path / "placement.ipynb").write_text(nbformat.writes(module_to_notebook(source)))
    out = hml("check", "hybrid_placement", "placement.ipynb")
    assert out.exit_code == 1 and "SyntaxError at cell" in out.text, out.output
    lines = out.output.splitlines()
    code = next(i for i, line in enumerate(lines) if 'note = ("données' in line)
    caret = lines[code + 1]
    assert caret.strip() == "^", out.output
    assert caret.index("^") - lines[code].index("note") == bad.rindex(")") - bad.index("note"), out.output


def test_module_importing_a_library_the_grader_lacks(hml, tmp_path):
    """An import of a library the grading environment lacks is named before any test runs; one the check
    cannot see in the file (a dynamic import) is explained when it fails, with what the grader has."""
    reference = COURSE.exercise("hybrid_placement").reference.read_text()
    (tmp_path / "placement.py").write_text("import sklearn_is_not_here\n" + reference)
    out = hml("check", "hybrid_placement", "placement.py")
    assert out.exit_code == 1, out.output
    assert "error: `sklearn_is_not_here` (line 1) is not available where your work is graded" in out.text
    (tmp_path / "placement.py").write_text("__import__('sklearn_is_not_here')\n" + reference)
    out = hml("check", "hybrid_placement", "placement.py")
    assert out.exit_code == 1, out.output
    assert "(line 1): ModuleNotFoundError" in out.text
    assert "not installed where your code runs" in out.text and "section 'Where your work is graded'" in out.text


@pytest.fixture(scope="module")
def python_without_tensorflow(tmp_path_factory) -> Path:
    """A Python environment like the learner's, where everything but TensorFlow is installed."""
    venv = tmp_path_factory.mktemp("no-tf") / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_hml_hide_tensorflow.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tensorflow' or name.startswith('tensorflow.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _Hide())\n")
    ours = sysconfig.get_paths()["purelib"]
    (site / "zz_hml_course.pth").write_text(f"import site; site.addsitedir({ours!r}); import _hml_hide_tensorflow\n")
    return python


def test_missing_tensorflow_says_how_to_install_it(python_without_tensorflow, tmp_path):
    """Without TensorFlow the worker cannot preload it: the check says so and how to install it, into the
    Python that runs hml. Without bubblewrap the check still runs: under Landlock, or unsandboxed after a
    one-line warning."""
    python = python_without_tensorflow
    exercise = COURSE.exercise("tflite_convert")
    (tmp_path / "convert.py").write_bytes(exercise.reference.read_bytes())
    env = dict(os.environ, PATH=str(python.parent), HML_CACHE_DIR=str(tmp_path / "cache"))
    process = subprocess.run([str(python), "-m", "grader.cli", "check", "tflite_convert", "convert.py"],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert process.returncode == 1, process.stdout + process.stderr
    # Without bwrap, auto picks Landlock where the kernel has it (no warning), else runs unsandboxed (one warning).
    assert process.stderr.strip().splitlines() in (
        [], ["warning: no bubblewrap (bwrap) here: your code runs unsandboxed"]), process.stderr
    out = " ".join(process.stdout.split())
    assert "could not import its libraries: ModuleNotFoundError: No module named 'tensorflow'" in out
    assert "This exercise needs TensorFlow" in out
    assert f"`{python} -m pip install 'tensorflow-cpu>=2.16,<3'`" in out
    assert out.count("This exercise needs TensorFlow") == 1  # one hint, not one per test
    assert "✓" not in out


def test_explanations_fit_the_message():
    """Hints appear for the failures they explain and stay away from others (one per kind)."""
    kfp = COURSE.exercise("kfp_basic_pipeline")
    placement = COURSE.exercise("hybrid_placement")
    assert explain("expected {'training': 'cloud'}, got {'training': 'on_prem'}", placement) == []
    todo = explain("`place` raised NotImplementedError: rule 1: see README, section 'The contract'", placement)
    assert len(todo) == 1 and "`place` still raises" in todo[0].text and "'The contract'" in todo[0].text
    signature = explain("`place` raised TypeError: place() got an unexpected keyword argument 'workload'",
                        placement)
    assert [h.key for h in signature] == ["signature:place"]
    undefined = explain("AttributeError: your module does not define 'reverse'", kfp)
    assert "`reverse`" in undefined[0].text and "concat, reverse" in undefined[0].text
    name_error = "the task reverse failed with NameError: name 'json' is not defined"
    assert "inside its function body" in explain(name_error, kfp)[0].text
    assert explain(name_error + ". every import must be inside the component's function body", kfp) == []
    assert explain(name_error, placement) == []  # not a KFP exercise: no component advice


def test_frames_are_the_learners_own():
    """Frames of the learner's file show its own name (and notebook cell); other frames are left as they are;
    a caret line under a whole line of code is dropped."""
    module = Source(Path("placement.py"), "a = 1\n")
    text = ('  File "/submission/placement.py", line 3, in place\n    x = y\n'
            '  File "/usr/lib/python3/json.py", line 9, in loads\n'
            '    @decorator(name="a")\n     ^^^^^^^^^^^^^^^^^^^\n')
    rewritten = rewrite_frames(text, module, "placement.py")
    assert 'File "placement.py", line 3, in place' in rewritten
    assert 'File "/usr/lib/python3/json.py", line 9' in rewritten
    assert "^^^" not in rewritten
    notebook = Source(Path("placement.ipynb"), "# --- cell 2 ---\na = 1\n\n# --- cell 4 ---\nb = 2\nc = 3\n",
                      [(2, 2), (5, 4)])
    assert 'File "placement.ipynb", cell 4, line 2, in f' in rewrite_frames(
        'File "/tmp/x/placement.py", line 6, in f', notebook, "placement.py")


def test_a_refused_file_is_said_refused_once(hml, tmp_path):
    """A zip without the module is refused: the check says so and why, once, and lists no test as failed
    nor says to start with the first failing one."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "sub.zip", "w") as archive:
        archive.writestr("notes.txt", "my placement is in another file")
    result = hml("check", "hybrid_placement", "sub.zip")
    assert result.exit_code == 1
    assert result.text.count("refused") == 2 and "no placement.py found" in result.text, result.output
    assert "Your file was refused, so no test could run on it" in result.text
    assert "✗" not in result.output and "first failing test" not in result.text, result.output
