"""Notebooks, for every exercise: starters and references run in Jupyter, and `hml check` gives a
notebook the verdict it gives the same code as a module.

Reference notebooks are generated from the reference modules with
``grader.intake.notebooks.module_to_notebook`` (as starter notebooks are from
starter modules), so a notebook and its module never drift apart. Kernels
are real ipykernel kernels (nbclient, kernel ``python3``, which jupyter_client
starts with this very interpreter); two exercises run at once.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from grader.course.model import Course
from grader.intake.notebooks import module_to_notebook

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
EXERCISES = [e for e in COURSE.exercises() if e.reference.is_file() and e.starter.is_file()]
IDS = [e.id for e in EXERCISES]
PARALLEL = 2  # the machine's cores


def _notebook_text(module_path: Path) -> str:
    return nbformat.writes(module_to_notebook(module_path.read_text())) + "\n"


def _execute(exercise, workdir: Path) -> dict:
    """Run the reference notebook, reset the namespace, then the starter notebook, in one kernel.

    One kernel per exercise keeps the cost to one start and one import of the
    heavy libraries; ``%reset -f`` between the two notebooks means neither can
    lean on a name the other defined. Returns what went wrong, by part.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    reference = nbformat.reads(_notebook_text(exercise.reference), as_version=4)
    starter = nbformat.reads(_notebook_text(exercise.starter), as_version=4)
    probe = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
    reset = nbformat.v4.new_code_cell("get_ipython().run_line_magic('reset', '-f')")
    parts = [("kernel", [probe]), ("reference", reference.cells), ("reset", [reset]), ("starter", starter.cells)]
    combined = nbformat.v4.new_notebook()
    combined.metadata = reference.metadata
    owners = []
    for part, cells in parts:
        for number, cell in enumerate(cells, start=1):
            combined.cells.append(cell)
            owners.append((part, number))
    client = NotebookClient(combined, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(workdir)}})
    report = {"errors": [], "kernel_python": None}
    with client.setup_kernel():
        for index, cell in enumerate(combined.cells):
            if cell.cell_type != "code":
                continue
            part, number = owners[index]
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                report["errors"].append(f"{part} notebook, cell {number}: {str(exc)[-800:]}")
                if part in ("kernel", "reference"):
                    break
            if part == "kernel":
                report["kernel_python"] = "".join(o.get("text", "") for o in cell.outputs).strip()
    return report


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    def run(exercise):
        return exercise.id, _execute(exercise, tmp_path_factory.mktemp(f"nb-{exercise.id}"))

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(pool.map(run, EXERCISES))


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_and_starter_notebooks_run_top_to_bottom(executed, exercise_id):
    """Every reference notebook and every starter notebook runs top to bottom on a real kernel.

    The kernel is this interpreter (so the course's libraries are there), the
    reference notebook (generated from the reference module) raises nothing,
    and neither does the starter: its TODOs raise only when called.
    """
    report = executed[exercise_id]
    assert os.path.realpath(report["kernel_python"] or "") == os.path.realpath(sys.executable), (
        f"the kernel runs {report['kernel_python']!r}, not this interpreter")
    assert not report["errors"], "\n".join(report["errors"])


def _raises_todo(node: ast.AST) -> list[str]:
    messages = []
    for child in ast.walk(node):
        if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call) and \
                getattr(child.exc.func, "id", None) == "NotImplementedError":
            messages.append(" ".join(ast.literal_eval(a) for a in child.exc.args if isinstance(a, ast.Constant)))
    return messages


@pytest.mark.parametrize("exercise_id", IDS)
def test_starter_todos_point_to_the_statement(exercise_id):
    """Each contract function of a starter is defined and raises NotImplementedError pointing to the README.

    The starter notebook is the starter module cut at its `# %%` markers, with
    markdown cells, and is up to date with it.
    """
    exercise = COURSE.exercise(exercise_id)
    tree = ast.parse(exercise.starter.read_text())
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name in exercise.functions:
        assert name in defined, f"the starter does not define the contract function {name}"
    todos = [m for n in defined.values() for m in _raises_todo(n)]
    assert todos, "the starter has no TODO raising NotImplementedError"
    for message in todos:
        assert "see README, section" in message, f"a TODO does not point to the README: {message!r}"
    notebook = nbformat.reads(_notebook_text(exercise.starter), as_version=4)
    kinds = {c.cell_type for c in notebook.cells}
    assert kinds == {"markdown", "code"}, f"the starter notebook has cells of kinds {kinds}"
    assert exercise.starter_notebook.is_file(), f"{exercise.starter_notebook.name} is missing: run `hml notebooks`"
    assert exercise.starter_notebook.read_text() == _notebook_text(exercise.starter), (
        f"{exercise.starter_notebook.name} is out of date with {exercise.file}: run `hml notebooks`")


def _check(exercise_id: str, path: Path, results: Path, env: dict) -> tuple[int, str]:
    process = subprocess.run([sys.executable, "-m", "grader.cli", "check", exercise_id, str(path),
                              "--results", str(results)], capture_output=True, text=True, cwd=path.parent,
                             env=env, timeout=900)
    return process.returncode, process.stdout + process.stderr


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict:
    """`hml check` on every reference as a module and as a notebook; modules first, so that the
    notebooks find the references (the batch cache) the modules computed."""
    root = tmp_path_factory.mktemp("verdicts")
    env = dict(os.environ, HML_CACHE_DIR=str(root / "cache"))
    jobs = []
    for kind in ("module", "notebook"):
        for exercise in EXERCISES:
            folder = root / kind / exercise.id
            folder.mkdir(parents=True)
            if kind == "module":
                path = folder / exercise.file
                path.write_bytes(exercise.reference.read_bytes())
            else:
                path = folder / f"{exercise.module_name}.ipynb"
                path.write_text(_notebook_text(exercise.reference))
            jobs.append((exercise.id, kind, path, folder / "results.json"))

    def run(job):
        exercise_id, kind, path, results = job
        code, output = _check(exercise_id, path, results, env)
        data = json.loads(results.read_text()) if results.is_file() else None
        return (exercise_id, kind), (code, output, data)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(pool.map(run, jobs))


def _verdict(data: dict) -> list[tuple]:
    return [(t["name"], t["status"], t["score"], t["max_score"]) for t in data["tests"]]


@pytest.mark.parametrize("exercise_id", IDS)
def test_notebook_and_module_get_the_same_verdict(verdicts, exercise_id):
    """`hml check` passes the reference as a module and as a notebook, test by test the same (exit 0 both)."""
    module_code, module_output, module_data = verdicts[(exercise_id, "module")]
    book_code, book_output, book_data = verdicts[(exercise_id, "notebook")]
    assert module_data is not None and book_data is not None, module_output + book_output
    assert module_data["tests"], module_output
    assert _verdict(book_data) == _verdict(module_data), f"module:\n{module_output}\nnotebook:\n{book_output}"
    assert module_code == book_code == 0, f"module:\n{module_output}\nnotebook:\n{book_output}"
    assert module_data["score"] == module_data["extra_data"]["max_score"] > 0
