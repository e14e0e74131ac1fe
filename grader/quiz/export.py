"""Offline copies of a quiz: a Jupyter notebook, a Markdown page or an HTML page.

Questions come first, answers and explanations at the end, so a learner can try before looking.
Letters follow the same rule as answers files (seeded layout, or bank order without a seed), so
an exported notebook's saved answers grade with ``hml quiz grade`` and the same options.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.quiz.errors import QuizError
from grader.quiz.model import Bank, QuestionKind, format_number
from grader.quiz.responses import hint
from grader.quiz.selection import Presented, Selection

FORMATS = {"notebook": ".ipynb", "markdown": ".md", "html": ".html"}
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ExportItem:
    """What the templates need about one question."""

    number: int
    presented: Presented
    hint: str
    placeholder: str   # the starting value in the notebook's answer cell
    example: str       # an example answer, in the notebook's comment

    @property
    def question(self):
        return self.presented.question


def render(bank: Bank, questions: list[Presented], fmt: str, selection: Selection) -> str:
    """The exported document as text (notebooks as nbformat JSON)."""
    context = {
        "bank": bank,
        "items": [_item(n, p) for n, p in enumerate(questions, start=1)],
        "grade_command": _grade_command(bank, selection),
        "selection": selection,
    }
    if fmt == "notebook":
        return _notebook(context)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    template = "quiz.html.j2" if fmt == "html" else "quiz.md.j2"
    return _environment(html=fmt == "html").get_template(template).render(**context)


def default_output(bank: Bank, fmt: str) -> Path:
    return Path(f"{bank.name}-quiz{FORMATS[fmt]}")


def write(text: str, output: Path, *, force: bool = False) -> None:
    """Write an export to ``output``; an existing file only with ``force``."""
    if output.exists() and not force:
        # An exported notebook may hold the learner's answers by now; never overwrite it silently.
        raise QuizError(f"{output} exists; use --force to overwrite it or --output to choose another file.")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise QuizError(f"Cannot write {output}: {err}") from err


def _item(number: int, presented: Presented) -> ExportItem:
    kind = presented.question.kind
    placeholder, example = {
        QuestionKind.SINGLE: ('""', '"B"'),
        QuestionKind.MULTIPLE: ("[]", '["A", "C"]'),
        QuestionKind.TRUE_FALSE: ("None", "True or False"),
        QuestionKind.NUMERIC: ("None", "a number, e.g. 0.5"),
        QuestionKind.TEXT: ('""', '"a short phrase"'),
    }[kind]
    return ExportItem(number, presented, hint(presented), placeholder, example)


def _grade_command(bank: Bank, selection: Selection) -> str:
    options = [f"--{name} {json.dumps(value) if isinstance(value, str) else value}"
               for name, value in (("module", selection.module), ("topic", selection.topic),
                                   ("count", selection.count), ("seed", selection.seed))
               if value is not None]
    return " ".join(["hml quiz grade", bank.name, "answers.yaml", *options])


def _environment(html: bool):
    # jinja2 is imported only when exporting, to keep quiz start-up fast.
    import jinja2
    from markupsafe import Markup, escape

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=html,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)

    def code_spans(text: str) -> Markup:
        # Escape first, then turn `code` into <code>: bank text can never inject HTML.
        return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))

    env.filters["code_spans"] = code_spans
    env.filters["number"] = format_number
    env.filters["pyrepr"] = lambda value: json.dumps(value)
    return env


def _notebook(context: dict) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    env = _environment(html=False)

    def part(name: str, **extra) -> str:
        return env.get_template(f"notebook/{name}").render(**context, **extra).strip("\n")

    cells = [new_markdown_cell(part("intro.md.j2")), new_code_cell(part("setup.py.j2"))]
    for item in context["items"]:
        cells.append(new_markdown_cell(part("question.md.j2", item=item)))
        cells.append(new_code_cell(part("answer.py.j2", item=item)))
    cells.append(new_markdown_cell(part("save.md.j2")))
    cells.append(new_code_cell(part("save.py.j2")))
    cells.append(new_markdown_cell(part("answers.md.j2")))
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook)
