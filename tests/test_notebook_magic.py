"""The learner's loop inside the notebook: ``%load_ext hml`` and ``%hml check`` in a real kernel.

A workspace is started with ``hml start --notebook`` and its notebook run by
nbclient on a real ipykernel kernel, as a learner runs it top to bottom: the
starter (every part not attempted), the starter with one part done, and a
complete notebook. What each ``%hml check`` cell shows is compared, test by
test, with what ``hml check --results`` records for the same saved file.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from grader.course.model import Course
from grader.intake.notebooks import CHECK_CELL, LOAD_CELL

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
EXERCISE = COURSE.exercise("hybrid_placement")
REFERENCE = EXERCISE.reference.read_text()


class _Rows(HTMLParser):
    """(name, verdict) of each row of the check's table, and its summary line."""

    def __init__(self):
        super().__init__()
        self.rows, self.summary, self._in = [], "", None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-verdict" in attrs:
            self.rows.append(["", attrs["data-verdict"]])
        classes = (attrs.get("class") or "").split()
        self._in = "name" if "hml-name" in classes else "summary" if "hml-summary" in classes else None

    def handle_data(self, data):
        if self._in == "name":
            self.rows[-1][0] += data
        elif self._in == "summary":
            self.summary += data

    def handle_endtag(self, tag):
        self._in = None


def _start(tmp_path: Path) -> Path:
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "grader.cli", "start", EXERCISE.id, "--notebook", "--dir",
                    str(tmp_path / "work")], check=True, capture_output=True, env=env, timeout=120)
    return tmp_path / "work"


def _run_notebook(path: Path, env_extra: dict) -> list[dict]:
    """Run the saved notebook top to bottom in a real kernel; the outputs of its %hml check cells."""
    from nbclient import NotebookClient

    book = nbformat.read(str(path), as_version=4)
    client = NotebookClient(book, kernel_name="python3", timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    previous = {k: os.environ.get(k) for k in env_extra}
    os.environ.update(env_extra)  # the kernel inherits this process's environment
    try:
        client.execute()
    finally:
        for key, value in previous.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    shown = []
    for cell in book.cells:
        if cell.cell_type == "code" and cell.source.strip() == CHECK_CELL:
            outputs = [o for o in cell.outputs if o.output_type == "display_data"]
            assert len(outputs) == 1, cell.outputs
            shown.append(outputs[0]["data"])
    return shown


def _parse(html: str) -> _Rows:
    parser = _Rows()
    parser.feed(html)
    return parser


def _hml_check(path: Path, results: Path, env: dict) -> dict:
    subprocess.run([sys.executable, "-m", "grader.cli", "check", "--results", str(results)], cwd=path.parent,
                   env=env, capture_output=True, text=True, timeout=600)
    return json.loads(results.read_text())


def _replace_cell(path: Path, defines: str, source: str) -> None:
    book = nbformat.read(str(path), as_version=4)
    cell = next(c for c in book.cells if c.cell_type == "code" and f"def {defines}(" in c.source)
    cell.source = source
    nbformat.write(book, str(path))


@pytest.fixture
def env(tmp_path) -> dict:
    values = dict(os.environ, HML_CACHE_DIR=str(tmp_path / "cache"))
    values.pop("JPY_SESSION_NAME", None)
    return values


@pytest.mark.parametrize("stage", ["starter", "partly", "complete"])
def test_check_in_the_notebook_shows_what_hml_check_records(tmp_path, env, stage):
    """Every %hml check cell of a started notebook shows one row per public test with the verdict `hml check`
    records for the same saved notebook (passed, failed, or not attempted: the starter's NotImplementedError),
    never a hidden test, and a summary line of the form `N/M public tests pass` that says hidden tests decide
    the grade. Starter: nothing passes and every part is not attempted. Partly done (every rule written, one
    value misspelt): some tests pass, the README example fails. Complete: all pass."""
    workspace = _start(tmp_path)
    notebook = workspace / f"{EXERCISE.module_name}.ipynb"
    book = nbformat.read(str(notebook), as_version=4)
    assert book.cells[1].source == LOAD_CELL and sum(c.source == CHECK_CELL for c in book.cells) >= 2
    if stage == "partly":  # every rule written, one spelled wrong
        _replace_cell(notebook, "place", REFERENCE.replace('"edge_quantized"', '"edge_quantised"'))
    if stage == "complete":
        _replace_cell(notebook, "place", REFERENCE)

    shown = _run_notebook(notebook, {"HML_CACHE_DIR": env["HML_CACHE_DIR"]})
    recorded = _hml_check(notebook, tmp_path / "results.json", env)
    expected = [(t["name"], "passed" if t["status"] == "passed" else
                 "not attempted" if t["extra_data"]["kind"] == "not_attempted" else "failed")
                for t in recorded["tests"]]
    assert expected and all(t["visibility"] == "visible" for t in recorded["tests"])
    passed = sum(v == "passed" for _, v in expected)
    for data in shown:  # every check cell checks the whole saved notebook: the same each time
        rows = _parse(data["text/html"])
        assert [tuple(r) for r in rows.rows] == expected, data["text/plain"]
        assert re.search(rf"^{passed}/{len(expected)} public tests pass\b", rows.summary), rows.summary
        assert "hidden tests decide it" in rows.summary
        assert f"{passed}/{len(expected)} public tests pass" in data["text/plain"]
    verdicts = {v for _, v in expected}
    if stage == "starter":
        assert verdicts == {"not attempted"}
    elif stage == "partly":
        assert verdicts == {"passed", "failed"}
    else:
        assert verdicts == {"passed"}


def test_a_cell_run_but_not_saved_is_named(tmp_path, env):
    """The check reads the notebook as saved (what is submitted): a cell run in the kernel whose code is not in
    the saved file makes the check say so, and ask for a save, rather than pass silently on stale code."""
    workspace = _start(tmp_path)
    notebook = workspace / f"{EXERCISE.module_name}.ipynb"
    book = nbformat.read(str(notebook), as_version=4)
    from nbclient import NotebookClient

    book.cells = [nbformat.v4.new_code_cell(LOAD_CELL), nbformat.v4.new_code_cell("x = 1  # typed, never saved"),
                  nbformat.v4.new_code_cell(CHECK_CELL)]
    client = NotebookClient(book, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(workspace)}})
    previous = os.environ.get("HML_CACHE_DIR")
    os.environ["HML_CACHE_DIR"] = env["HML_CACHE_DIR"]
    try:
        client.execute()  # the saved file on disk is the starter; this notebook object never was saved
    finally:
        os.environ.pop("HML_CACHE_DIR") if previous is None else os.environ.__setitem__("HML_CACHE_DIR", previous)
    text = book.cells[2].outputs[0]["data"]["text/plain"]
    assert "1 cell you ran since" in text and "Save it" in text, text


def test_the_learners_text_is_escaped_in_the_notebook():
    """What `%hml check` shows as HTML carries the learner's own text (messages, test names built from their
    values) as text: markup in it is escaped, never rendered."""
    from grader.learner_tools.check import CheckEnd
    from grader.learner_tools.check_view import CheckRow, CheckView
    from grader.learner_tools.notebook_magic import HINT, _render

    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    view = CheckView("hybrid_placement", "Where", f"{payload}.ipynb", CheckEnd.FAILED, sandboxed=True,
                     warnings=[payload], rows=[CheckRow("test_x", payload, "0/1", "failed", message=payload)],
                     grader_failure=payload, max_score=1)
    html = _render("check.html.j2", view=view, command=HINT)
    assert "<script>" not in html and "<img" not in html
    assert html.count("&lt;script&gt;") == 6  # checked file, warning, name, message, grader failure, next step
