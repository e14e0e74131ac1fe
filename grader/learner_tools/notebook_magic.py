"""``%load_ext hml``, then ``%hml check [ID]`` and ``%hml hint TEST`` in a learner's notebook.

What is checked is the notebook *as saved*: that file is what the learner
submits and what ``hml check`` and every grader read. A kernel cannot save
the front end's buffer (JupyterLab autosaves on a timer, and offers a kernel
no way to ask for a save), so the magic says when a cell run since the last
save is missing from the saved file, and asks for a save rather than
checking something that would not be graded. The run itself is ``hml
check``'s, in the same sandbox, public tests only; the result shows inline as
HTML (plain text in a terminal IPython), with the same view.
"""
from __future__ import annotations

import io
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from IPython.core.magic import Magics, line_magic, magics_class

from grader.errors import GraderError
from grader.learner_tools.check_view import CheckView

TEMPLATES = Path(__file__).with_name("templates")
USAGE = ("usage: %hml check [ID]  (run the public tests on this notebook, as saved)\n"
         "       %hml hint TEST   (the next hint of a public test: its name or number)")


class MagicUsageError(GraderError):
    """The magic's line could not be understood; the message shows its usage."""


@dataclass
class Shown:
    """What a magic shows: HTML in a notebook, the same words as plain text elsewhere."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text)

    def __repr__(self) -> str:
        return self.text


@dataclass
class RanCells:
    """The cells this kernel ran since the extension was loaded, with when: what may be unsaved."""

    cells: list[tuple[float, str]] = field(default_factory=list)

    def pre_run_cell(self, info) -> None:
        self.cells.append((time.time(), info.raw_cell or ""))

    def unsaved(self, notebook: Path) -> int:
        """How many cells run after the notebook was last saved are not in the saved file."""
        import nbformat

        try:
            saved_at = notebook.stat().st_mtime
            book = nbformat.read(str(notebook), as_version=4)
        except (OSError, ValueError, nbformat.reader.NotJSONError):
            return 0  # the check itself says the notebook cannot be read
        saved = {_normal(cell.source) for cell in book.cells if cell.cell_type == "code"}
        return sum(1 for when, source in self.cells[:-1]  # the last one is this %hml cell
                   if when > saved_at and _normal(source) and _normal(source) not in saved
                   and not _normal(source).startswith("%hml"))


@magics_class
class HmlMagics(Magics):
    def __init__(self, shell, ran: RanCells):
        super().__init__(shell)
        self.ran = ran

    @line_magic
    def hml(self, line: str):
        """%hml check [ID]: the public tests on this notebook as saved; %hml hint TEST: the next hint."""
        from IPython.display import display

        try:
            display(self._run(shlex.split(line)))
        except (GraderError, ValueError) as exc:
            display(_error(str(exc)))

    def _run(self, words: list[str]) -> Shown:
        if not words or words[0] not in ("check", "hint"):
            raise MagicUsageError(USAGE)
        if words[0] == "check" and len(words) <= 2:
            return self._check(words[1] if len(words) > 1 else None)
        if words[0] == "hint" and len(words) in (2, 3):
            return self._hint(words[1], words[2] if len(words) > 2 else None)
        raise MagicUsageError(USAGE)

    def _target(self, exercise_id: str | None):
        from grader.course.model import Course
        from grader.learner_tools.check import find_target

        course = Course()
        notebook = self._notebook()
        return course, find_target(course, exercise_id, notebook, notebook=notebook is None)

    def _notebook(self) -> Path | None:
        """The notebook this kernel runs, when the front end says (Jupyter Server tells its kernels)."""
        named = os.environ.get("JPY_SESSION_NAME") or str(self.shell.user_ns.get("__session__") or "")
        if named.endswith(".ipynb"):
            for candidate in (Path(named), Path.cwd() / Path(named).name):
                if candidate.is_file():
                    return candidate
        return None  # the workspace (or the folder) says which notebook

    def _check(self, exercise_id: str | None) -> Shown:
        from grader.learner_tools.check import choose_sandbox, display, run_check
        from grader.learner_tools.check_view import check_view
        from grader.learner_tools.hint_tiers import HintTiers

        course, target = self._target(exercise_id)
        sandbox, warnings = choose_sandbox(os.environ.get("HML_SANDBOX", "auto"), False)
        target.warnings += warnings
        unsaved = self.ran.unsaved(target.path) if target.path.suffix == ".ipynb" else 0
        if unsaved:
            target.warnings.append(
                f"{unsaved} cell{'s' if unsaved > 1 else ''} you ran since {target.path.name} was last saved "
                f"{'are' if unsaved > 1 else 'is'} not in the saved file: this checks the saved notebook (what you "
                "submit). Save it (Ctrl+S, or File > Save Notebook) and run %hml check again.")
        outcome = run_check(target, sandbox, course=course)
        tiers = HintTiers.of(target.exercise, target.workspace.directory if target.workspace else None)
        view = check_view(outcome, tiers, display(target.path))
        return Shown(_render("check.html.j2", view=view, command=HINT), _plain(view))

    def _hint(self, test: str, exercise_id: str | None) -> Shown:
        from grader.learner_tools.hint_tiers import HintTiers

        _, target = self._target(exercise_id)
        step = HintTiers.of(target.exercise, target.workspace.directory if target.workspace else None).next(test)
        text = "\n".join(f"Hint {n}/{len(step.tiers)}: {t}" for n, t in enumerate(step.shown, 1))
        text += "\n(that is the last hint for this test)" if step.last else f"\n(another: {HINT.format(test=step.test)})"
        return Shown(_render("hint.html.j2", step=step, command=HINT), f"{step.test}\n{text}")


HINT = "%hml hint {test}"


def load_ipython_extension(ipython) -> None:
    ran = RanCells()
    ipython.events.register("pre_run_cell", ran.pre_run_cell)
    ipython.register_magics(HmlMagics(ipython, ran))


def _render(template: str, **values) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template(template).render(**values)


def _plain(view: CheckView) -> str:
    """The view as ``hml check`` prints it, without colour."""
    from rich.console import Console

    from grader.learner_tools.feedback import render_check

    console = Console(record=True, width=100, color_system=None, force_terminal=False, force_jupyter=False,
                      file=io.StringIO())
    for warning in view.warnings:
        console.print(f"warning: {warning}", markup=False)
    render_check(console, view, HINT)
    return console.export_text().rstrip()


def _error(message: str) -> Shown:
    return Shown(_render("error.html.j2", message=message), f"hml: {message}")


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())
