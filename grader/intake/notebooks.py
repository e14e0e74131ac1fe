"""Notebooks to modules and back, with nbformat.

A learner's notebook becomes a module of its code cells in order, IPython
magics and shell lines dropped; a starter module with ``# %%`` cell markers
becomes the starter notebook, so the two never drift apart; the starter
notebook also gets the ``%hml check`` cells of the learner's loop.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.learner_text import shorten

if TYPE_CHECKING:  # pragma: no cover
    import nbformat

_SHELL_OR_MAGIC = re.compile(r"^\s*(?:[!%]|\w+\s*=\s*[!%])")
_CELL_MARKER = re.compile(r"^# %%(?P<markdown>\s*\[markdown\])?")


class StaleNotebooks(GraderError):
    """Starter notebooks differ from what their modules make (`hml notebooks --check`)."""


class NotebookError(GraderError):
    """The file is not a notebook we can read."""


@dataclass
class ConvertedNotebook:
    source: str
    # (first line in the module, cell number as Jupyter shows it, counting from 1)
    cells: list[tuple[int, int]] = field(default_factory=list)

    def locate(self, line: int) -> str:
        """Where a line of the generated module came from, in the notebook's terms."""
        found = None
        for start, cell in self.cells:
            if start <= line:
                found = (start, cell)
        if found is None:
            return f"line {line}"
        start, cell = found
        return f"cell {cell}, line {line - start + 1}"


def read_notebook(text: str) -> nbformat.NotebookNode:
    import nbformat  # here, not at the top: grading a module needs none of it (0.1 s with jsonschema)

    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad input
        raise NotebookError(f"this is not a valid Jupyter notebook ({_first_line(exc)})") from None
    if not isinstance(notebook.get("cells"), list):
        raise NotebookError("this is not a valid Jupyter notebook (it has no cell list)")
    return notebook


def notebook_to_module(text: str) -> ConvertedNotebook:
    """The notebook's code cells, in order, as one module."""
    notebook = read_notebook(text)
    lines: list[str] = []
    cells: list[tuple[int, int]] = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith("%%"):
            continue  # a cell magic: the whole cell is for IPython, not Python
        kept = ["" if _SHELL_OR_MAGIC.match(line) else line for line in source.splitlines()]
        if not any(line.strip() for line in kept):
            continue
        lines.append(f"# --- cell {number} ---")
        cells.append((len(lines) + 1, number))
        lines.extend(kept)
        lines.append("")
    if not cells:
        raise NotebookError("the notebook has no code cells")
    return ConvertedNotebook("\n".join(lines) + "\n", cells)


def module_to_notebook(source: str) -> nbformat.NotebookNode:
    """Split a module on ``# %%`` markers into notebook cells (``# %% [markdown]`` for text)."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    kind, chunk = "code", []

    def flush() -> None:
        text = "\n".join(chunk).strip("\n")
        if not text:
            return
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", line) for line in text.splitlines())
            notebook.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(text))

    for line in source.splitlines():
        marker = _CELL_MARKER.match(line)
        if marker:
            flush()
            kind, chunk = ("markdown" if marker.group("markdown") else "code"), []
        else:
            chunk.append(line)
    flush()
    notebook.cells = _with_check_cells(notebook.cells)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"  # stable ids keep regenerated notebooks byte-identical
    return notebook


LOAD_CELL = "%load_ext hml"
CHECK_CELL = "%hml check"


def _with_check_cells(cells: list) -> list:
    """The learner's loop in the notebook: the extension loaded first, and a check after each part (a ``## ``
    section with code), run on the notebook as saved. Grading drops these lines with every other magic."""
    import nbformat

    out, in_part, part_has_code = [], False, False
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            if part_has_code:
                out.append(nbformat.v4.new_code_cell(CHECK_CELL))
            in_part, part_has_code = True, False
        elif cell.cell_type == "code" and in_part:
            part_has_code = True
        out.append(cell)
    if part_has_code:
        out.append(nbformat.v4.new_code_cell(CHECK_CELL))
    first = 1 if cells and cells[0].cell_type == "markdown" else 0
    out.insert(first, nbformat.v4.new_code_cell(LOAD_CELL))
    return out


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    import nbformat

    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n")


def _first_line(exc: Exception) -> str:
    return shorten((str(exc).strip().splitlines() or [type(exc).__name__])[0], 200)
