"""The grading environment learners expect: declared once (grader/course/environment.py), installed by every
grader, listed in every statement; an import it lacks is named before grading, a correct notebook that
imports pandas and Matplotlib to explore earns its marks.
"""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader.cli import main
from grader.course import environment
from grader.course.model import Course
from grader.grading.explain import Source, explain, preflight, read_source
from grader.intake.imports import unavailable_imports
from grader.intake.notebooks import write_notebook
from grader.intake.prepare import SubmissionRefused, prepare
from grading_helpers import assert_full_marks

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
EXERCISE = "kfp_basic_pipeline"
EXPLORATION = "import matplotlib.pyplot as plt\nimport pandas as pd\n"
# A notebook learner's look at the data, run at import like every other top-level cell.
PLOT_CELL = ('frame = pd.DataFrame({"a": ["stres", "Kube"], "b": ["sed", "flow"]})\n'
             'frame["joined"] = frame["a"] + frame["b"]\n'
             'fig, ax = plt.subplots()\n'
             'ax.bar(frame.index, frame["joined"].str.len())\n'
             'plt.close(fig)\n')


# --- the declaration, the lock and the installers ----------------------------------------------------------

def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_lock_records_the_installed_environment():
    """environment.json (written by `make lock`) lists the runtime distributions at the versions
    constraints.txt pins, and the modules they install here (CI installs from the lock): an out-of-date file
    fails here, not in a learner's grading."""
    data = environment.recorded()
    installed = environment.runtime_distributions()
    assert {canonicalize_name(n): v for n, v in data["distributions"].items()} == \
        {canonicalize_name(n): v for n, v in installed.items()}, \
        "grader/course/environment.json is out of date: run `make lock` (or `make install` if the lock is newer)"
    pins = _pins()
    unpinned = {"setuptools", "wheel", "pip"}  # pip freeze leaves these out of the lock
    for name, version in data["distributions"].items():
        key = canonicalize_name(name)
        if key not in unpinned:
            assert pins.get(key) == version, f"{name} {version} is not pinned so in constraints.txt"
    assert data["modules"] == environment.provided_modules(list(installed))
    assert data["python"] == "3.11"  # the lock's Python, and the images' (python:3.11)


def test_declared_libraries_are_dependencies_every_grader_installs():
    """Each declared library is a runtime dependency in pyproject.toml, so every install of the project
    brings it; the exploration libraries are there; each declared import is available."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    for library in environment.LIBRARIES:
        assert canonicalize_name(library.requirement) in runtime, library
        for name in library.imports:
            assert environment.is_available(name), name
    exploring = {lib.top for lib in environment.LIBRARIES if lib.role == environment.EXPLORING}
    assert {"matplotlib", "pandas"} <= exploring


INSTALLERS = {
    "make install": (ROOT / "Makefile", r"\$\(PIP\) install -c \$\(CONSTRAINTS\) -e '\.\["),
    "Coursera image": (ROOT / "grader/platforms/templates/coursera/Dockerfile.j2",
                       r"pip install [^\n]*-c \{\{ home \}\}/constraints\.txt -e \{\{ home \}\}/course"),
    "Gradescope zip": (ROOT / "grader/platforms/templates/gradescope/setup.sh.j2",
                       r"pip install [^\n]*-c \"\$SOURCE/constraints\.txt\" -e \"\$SOURCE/course\""),
    "cluster image": (ROOT / "docs/cluster/Dockerfile", r"pip install [^\n]*-c constraints\.txt -e '\.\[cluster\]'"),
}


@pytest.mark.parametrize("installer", sorted(INSTALLERS))
def test_every_grader_installs_the_project_with_its_lock(installer):
    """Each grader installs the project itself (so its runtime dependencies, the declared libraries
    included) with the lock's pins, never with --no-deps."""
    path, pattern = INSTALLERS[installer]
    text = path.read_text()
    assert re.search(pattern, text), f"{path} does not install the course with constraints.txt"
    assert "--no-deps" not in text


def test_make_lock_records_the_modules():
    """`make lock` writes environment.json in the environment it resolved, beside constraints.txt."""
    makefile = (ROOT / "Makefile").read_text()
    lock = makefile[makefile.index("\nlock:"):]
    lock = lock[:lock.index("\n\n")]
    assert "-m grader.course.environment --write" in lock


# --- the statements ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("exercise_id", COURSE.exercise_ids())
def test_statement_lists_the_environment(exercise_id):
    """Every statement carries the section made from the declaration, once: adding a library fails here
    until `python -m grader.course.environment --statements .` is run."""
    exercise = COURSE.exercise(exercise_id)
    sections = environment.statement_sections(exercise.statement.read_text())
    assert sections == [environment.section_for(exercise)], \
        f"{exercise.statement} is out of date: run `python -m grader.course.environment --statements .`"
    for name in environment.import_names():
        assert f"`{name}`" in sections[0]


def test_section_is_replaced_in_place_or_added_before_grading():
    section = environment.statement_section(uses_kfp=False)
    text = "# T\n\n## The contract\n\nx\n\n## Grading\n\ny\n"
    added = environment.with_section(text, section)
    assert added.index(environment.SECTION) < added.index("## Grading")
    stale = added.replace("| NumPy | `numpy` |\n", "")
    assert environment.with_section(stale, section) == added
    assert environment.with_section(added, section) == added


# --- finding imports the environment lacks ----------------------------------------------------------------

def test_unavailable_imports_are_read_from_the_source_not_this_machine():
    """What counts is the grading environment: celery and nbclient are installed here (the cluster and dev
    extras) but not where work is graded; google.colab is not there though google.cloud.aiplatform is. Imports
    that never run where the module is imported (guarded, TYPE_CHECKING, the __main__ block) cost nothing."""
    source = (
        "import os, json\n"                               # 1 the standard library
        "import celery\n"                                 # 2 installed here, not where work is graded
        "from google.colab import drive\n"                # 3 a namespace package's other member
        "from google.cloud import aiplatform\n"           # 4
        "import matplotlib.pyplot as plt, nbclient\n"     # 5
        "try:\n"
        "    import seaborn\n"                            # 7 guarded
        "except ImportError:\n"
        "    seaborn = None\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import sklearn\n"                            # 12 never runs
        "class Plots:\n"
        "    import plotly\n"                             # 14 runs at import
        "def component():\n"
        "    import torch\n"                              # 16 runs when called
        "from . import helpers\n"                         # relative: not judged here
        "import pipeline\n"                               # the module itself
        "if __name__ == '__main__':\n"
        "    import seaborn\n"                            # 20 never runs where the module is imported
    )
    found = [(i.module, i.line, i.function) for i in unavailable_imports(source, "pipeline")]
    assert found == [("celery", 2, None), ("google.colab", 3, None), ("nbclient", 5, None),
                     ("plotly", 14, None), ("torch", 16, "component")]
    assert environment.is_available("google.cloud") and environment.is_available("google.protobuf")


def _notebook(tmp_path: Path, extra_imports: str = "", name: str = "pipeline.ipynb") -> Path:
    """The starter notebook of kfp_basic_pipeline, its TODO cells filled with the reference's code, the
    exploration imports at the top of its imports cell and a cell that looks at data at the end."""
    exercise = COURSE.exercise(EXERCISE)
    reference = exercise.reference.read_text()
    tree = ast.parse(reference)
    segments = {node.name: ast.get_source_segment(reference, node, padded=True) for node in tree.body
                if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    for node in tree.body:  # decorators belong to the definition
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            start = node.decorator_list[0].lineno
            segments[node.name] = "\n".join(reference.splitlines()[start - 1:node.end_lineno])
    notebook = nbformat.read(exercise.starter_notebook, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        defined = [n for n in segments if re.search(rf"^def {n}\(", cell.source, re.M)]
        if defined:
            cell.source = "\n\n\n".join(segments[n] for n in defined)
        elif "from kfp import" in cell.source:
            cell.source = EXPLORATION + extra_imports + cell.source
    notebook.cells.append(nbformat.v4.new_code_cell(PLOT_CELL))
    path = tmp_path / name
    write_notebook(notebook, path)
    return path


def _imports_cell(path: Path) -> int:
    notebook = nbformat.read(path, as_version=4)
    return next(i for i, c in enumerate(notebook.cells, 1) if c.cell_type == "code" and "from kfp import" in c.source)


def test_preflight_names_the_module_with_its_cell(tmp_path):
    """`hml check`'s look before running: a module-level import the grader lacks is fatal, with the cell and
    line; one inside a function body is a note; the hint lists what is available, from the declaration."""
    path = _notebook(tmp_path, "import seaborn as sns\n")
    problems = preflight(read_source(path), COURSE.exercise(EXERCISE).functions)
    cell = _imports_cell(path)
    assert [p.fatal for p in problems] == [True]
    assert problems[0].title == f"`seaborn` (cell {cell}, line 3) is not available where your work is graded"
    assert "Remove the import" in problems[0].detail
    assert "`matplotlib`" not in problems[0].title and ", matplotlib" in problems[0].detail

    inside = Source(Path("pipeline.py"), "def concat(a: str, b: str) -> str:\n    import seaborn\n    return a\n")
    problems = preflight(inside, [])
    assert [p.fatal for p in problems] == [False] and "`concat`" in problems[0].detail

    hints = explain("your module could not be imported (line 1): ModuleNotFoundError: No module named 'seaborn'",
                    COURSE.exercise(EXERCISE))
    assert len(hints) == 1
    for name in environment.import_names():
        assert name in hints[0].text
    # Where a learner's own Python lacks a library the grader has (installed before it was added): install it.
    hints = explain("your module could not be imported (line 1): ModuleNotFoundError: No module named "
                    "'matplotlib'", COURSE.exercise(EXERCISE))
    assert [h.key for h in hints] == ["library:matplotlib"] and "the grader has it" in hints[0].text


def test_intake_refuses_with_the_same_words(tmp_path):
    """A grader refuses the notebook at intake, with the module, its cell and the fix; a correct one with
    the exploration imports is accepted."""
    path = _notebook(tmp_path, "import seaborn as sns\n")
    with pytest.raises(SubmissionRefused) as refused:
        prepare(path, "pipeline.py", tmp_path / "prepared")
    cell = _imports_cell(path)
    assert str(refused.value).startswith(
        f"`seaborn` (cell {cell}, line 3) is not available where your work is graded. ")
    assert "guard the import with `try:`" in str(refused.value)
    (tmp_path / "fine").mkdir()
    prepare(_notebook(tmp_path / "fine"), "pipeline.py", tmp_path / "prepared-fine")


# --- grading in the sandbox -------------------------------------------------------------------------------

def test_correct_notebook_with_exploration_imports_earns_full_marks(grade, tmp_path):
    """The case that earned 0/20: a correct notebook that imports matplotlib.pyplot and pandas at the top
    (and plots) earns every point, hidden tests included, in the sandbox (bubblewrap, or Landlock with
    HML_SANDBOX=landlock)."""
    result = grade(EXERCISE, _notebook(tmp_path))
    assert_full_marks(result)
    assert any(t.visibility == "hidden" for t in result.tests)
    assert result.max_score >= 20


def test_unavailable_import_is_named_before_grading(grade, tmp_path, monkeypatch, sandboxed):
    """A notebook importing seaborn at the top: `hml check` names it before any test runs, and grading
    refuses it with that message, score 0, no learner code run."""
    path = _notebook(tmp_path, "import seaborn as sns\n")
    cell = _imports_cell(path)
    expected = f"`seaborn` (cell {cell}, line 3) is not available where your work is graded"

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HML_CACHE_DIR", str(tmp_path / ".cache"))
    out = CliRunner().invoke(main, ["check", EXERCISE, str(path), "--sandbox", sandboxed.value],
                             catch_exceptions=False)
    text = " ".join(out.output.split())
    assert out.exit_code == 1, out.output
    assert f"error: {expected}" in text and "no test could run" in text
    assert "✓" not in text and "✗" not in text

    result = grade(EXERCISE, path)
    assert result.refused is not None and result.refused.startswith(expected), result.refused
    assert result.score == 0 and result.error is None
    assert all("refused" in t.output for t in result.tests)


EXPLORE = '''
import time

_started = time.perf_counter()
import matplotlib.pyplot as plt
PYPLOT = time.perf_counter() - _started
_started = time.perf_counter()
import pandas as pd
PANDAS = time.perf_counter() - _started


def seconds():
    import matplotlib
    return {"pyplot": PYPLOT, "pandas": PANDAS, "backend": matplotlib.get_backend().lower()}
'''


def test_exploration_imports_cost_no_seconds_in_a_worker(sandboxed, tmp_path):
    """Each worker is fresh, so Matplotlib lists the fonts again in each (about 0.2 s of the 0.4-0.5 s its
    pyplot import takes here): it must stay well under seconds, headless (Agg), and quiet (no fallback to a
    temporary cache folder, no fontconfig error in the learner's output)."""
    from grader.sandbox.proxy import Learner, WorkerSpec

    module = tmp_path / "explore"
    module.mkdir()
    (module / "explore.py").write_text(EXPLORE)
    for path in (module, module / "explore.py"):
        path.chmod(0o755)  # a worker of its own uid reads it
    learner = Learner(WorkerSpec(module_dir=module, module_name="explore", sandbox=sandboxed))
    try:
        seconds = learner.call("seconds")
        output = learner.output
    finally:
        learner.close()
    assert seconds["backend"] == "agg"
    assert seconds["pyplot"] < 3 and seconds["pandas"] < 3, seconds
    assert "Matplotlib" not in output and "Fontconfig" not in output, output


# Honest submissions the check must not refuse (a red-team pass found each refused, scoring 0): imports that may
# never run where the module is graded, or cannot fail there. Each is the reference with everyday notebook code
# appended; decided from the grader's record: not refused, full marks.
HONEST = {
    "colab guard": 'import sys\nif "google.colab" in sys.modules:\n    from google.colab import drive\n',
    "contextlib.suppress": "import contextlib\nwith contextlib.suppress(ImportError):\n    import seaborn as sns\n",
    "version guard": ("import sys\nif sys.version_info < (3, 11):\n    import tomli as tomllib\n"
                      "else:\n    import tomllib\n"),
    "find_spec guard": ('import importlib.util\nif importlib.util.find_spec("seaborn") is not None:\n'
                        "    import seaborn\n"),
    "reversed main guard": 'if "__main__" == __name__:\n    import seaborn\n',
    "import __main__": 'import __main__\nIN_NOTEBOOK = not hasattr(__main__, "__file__")\n',
}
PLACE = (ROOT / "solutions" / "hybrid_placement" / "placement.py").read_text()


@pytest.mark.parametrize("case", list(HONEST))
def test_imports_that_may_never_run_are_not_refused(grade_source, case):
    """Only an import that runs whenever the module is imported is refused; one in an `if`, a `with` or a loop is
    named in `hml check`, never refused, and `__main__` is always importable."""
    result = grade_source("hybrid_placement", PLACE + "\n\n" + HONEST[case])
    assert result.refused is None, result.refused
    assert result.error is None, result.error
    assert result.score == result.max_score > 0


DEEP = {
    "attribute chain (RecursionError)": "DEEP = x" + ".a" * 200_000 + "\n",
    "unary signs (MemoryError)": "DEEP = " + "-" * 100_000 + "1\n",
}


@pytest.mark.parametrize("case", list(DEEP))
def test_a_module_the_parser_cannot_build_is_the_learners_failure(grade_source, case):
    """A module too deep for the trusted process's parser (ast.parse raises RecursionError or MemoryError) is
    graded as the learner's failure, never recorded as the grader's: the check at intake lets it through to
    the worker, whose import fails."""
    from grader.record.kinds import Outcome

    result = grade_source("hybrid_placement", PLACE + "\n\n" + DEEP[case])
    assert result.error is None, result.error
    assert result.outcome in (Outcome.GRADED, Outcome.REFUSED) and result.score == 0, result.outcome
