"""`hml quiz export`: notebook, Markdown and HTML copies with the answers at the end."""
from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser

import nbformat
import pytest
from click.testing import CliRunner

from grader.commands.quiz import quiz
from grader.quiz import load_quiz
from grader.quiz.answers_file import answer_key
from grader.quiz.selection import Selection, select

QUIZ = "hybrid_ml"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("HML_QUIZ_DIR", raising=False)
    monkeypatch.setenv("HML_DATA_DIR", str(tmp_path / "data"))


def export(tmp_path, fmt, *args, name=None):
    output = tmp_path / (name or f"out.{fmt}")
    result = CliRunner().invoke(quiz, ["export", QUIZ, "--format", fmt, "--output", str(output), *args])
    assert result.exit_code == 0, result.output
    return output


def test_notebook_validates_and_puts_answers_at_the_end(tmp_path):
    """The notebook passes nbformat.validate, asks every question, and keeps answers for the last cell."""
    bank = load_quiz(QUIZ)
    notebook = nbformat.read(export(tmp_path, "notebook"), as_version=4)
    nbformat.validate(notebook)
    sources = [cell.source for cell in notebook.cells]
    answers_at = next(i for i, s in enumerate(sources) if s.startswith("## Answers and explanations"))
    assert answers_at == len(sources) - 1
    for q in bank.questions:
        asked = next(i for i, s in enumerate(sources) if q.prompt in s)
        assert asked < answers_at
        assert q.explanation in sources[answers_at]
        assert all(q.explanation not in s for s in sources[:answers_at]), "explanations must not come early"


def test_answers_saved_from_the_notebook_grade_with_the_printed_command(tmp_path):
    """Filling the notebook's answer cells and running its save cell writes a file that grades 100%."""
    bank = load_quiz(QUIZ)
    selection = Selection(count=6, seed=11)
    key = answer_key(select(bank, selection))
    notebook = nbformat.read(export(tmp_path, "notebook", "--count", "6", "--seed", "11"), as_version=4)
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            match = re.match(r'answers\["([^"]+)"\] = ', cell.source)
            source = f"answers[{match.group(1)!r}] = {key[match.group(1)]!r}" if match else cell.source
            exec(compile(source, "<cell>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    saved = tmp_path / "answers.yaml"
    assert saved.is_file()
    command = next(c.source for c in notebook.cells if "hml quiz grade" in c.source)
    assert "hml quiz grade hybrid_ml answers.yaml --count 6 --seed 11" in command
    result = CliRunner().invoke(quiz, ["grade", QUIZ, str(saved), "--count", "6", "--seed", "11", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["percent"] == 100.0


def test_markdown_lists_questions_then_answers(tmp_path):
    """The Markdown page has every question with lettered choices, then an answers section with explanations."""
    bank = load_quiz(QUIZ)
    text = export(tmp_path, "markdown").read_text()
    head, answers = text.split("# Answers and explanations")
    for q, p in zip(bank.questions, select(bank, Selection())):
        assert q.prompt in head and q.explanation in answers and q.explanation not in head
        for letter, choice in p.lettered():
            assert f"**{letter})** {choice}" in head
        assert p.answer_display() in answers


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_a_standalone_page_that_escapes_bank_text(tmp_path, monkeypatch):
    """The HTML page is complete, shows code spans as <code>, and never lets bank text inject markup."""
    bank_dir = tmp_path / "banks"
    bank_dir.mkdir()
    (bank_dir / "tricky.yaml").write_text(
        "title: Tricky <b>bank</b>\nmodules: [M]\nquestions:\n"
        "  - {id: q1, module: M, topic: t, type: single, prompt: 'Is <script>alert(1)</script> run by `prefetch`?',"
        " choices: ['<i>never</i>', 'always'], answer: '<i>never</i>', explanation: 'Escaped & safe.'}\n")
    monkeypatch.setenv("HML_QUIZ_DIR", str(bank_dir))
    output = tmp_path / "tricky.html"
    result = CliRunner().invoke(quiz, ["export", "tricky", "-f", "html", "-o", str(output)])
    assert result.exit_code == 0, result.output
    page = output.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;i&gt;never&lt;/i&gt;" in page
    assert "<code>prefetch</code>" in page
    parser = _Collector()
    parser.feed(page)
    assert parser.tags[:1] == ["html"] and "ol" in parser.tags
    text = "".join(parser.text)
    assert text.index("Is <script>") < text.index("Answers and explanations") < text.index("Escaped & safe.")


def test_html_export_of_a_shipped_bank_contains_every_question(tmp_path):
    """Every prompt of the bank appears before the answers section and every explanation after it."""
    bank = load_quiz(QUIZ)
    parser = _Collector()
    parser.feed(export(tmp_path, "html").read_text())
    text = re.sub(r"\s+", " ", "".join(parser.text))
    questions, answers = text.split("Answers and explanations")[-2:]
    for q in bank.questions:
        assert re.sub(r"\s+", " ", q.prompt.replace("`", "")) in questions
        assert re.sub(r"\s+", " ", q.explanation.replace("`", "")) in answers


SENTINEL_BANK = (
    "title: Sentinel\nmodules: [M]\nquestions:\n"
    "  - {id: q-001, module: M, topic: TOPIC-SENTINEL, type: single, prompt: 'Which one?',"
    " choices: ['this one', 'that one'], answer: 'this one', explanation: 'Because.'}\n"
    "  - {id: q-002, module: M, topic: OTHER-SENTINEL, type: text, prompt: 'Say it.',"
    " answer: [it], explanation: 'Said.'}\n")


@pytest.mark.parametrize("fmt", ["markdown", "html", "notebook"])
def test_exports_show_topics_only_with_the_answers(tmp_path, monkeypatch, fmt):
    """A topic can give an answer away, so exports name it in the answers part, never beside the question."""
    bank_dir = tmp_path / "banks"
    bank_dir.mkdir()
    (bank_dir / "sentinel.yaml").write_text(SENTINEL_BANK)
    monkeypatch.setenv("HML_QUIZ_DIR", str(bank_dir))
    output = tmp_path / f"sentinel.{fmt}"
    result = CliRunner().invoke(quiz, ["export", "sentinel", "-f", fmt, "-o", str(output)])
    assert result.exit_code == 0, result.output
    if fmt == "notebook":
        text = "\n".join(cell.source for cell in nbformat.read(output, as_version=4).cells)
    else:
        text = output.read_text()
    answers_at = text.rindex("Answers and explanations")
    for topic in ("TOPIC-SENTINEL", "OTHER-SENTINEL"):
        assert topic in text[answers_at:], topic
        assert topic not in text[:answers_at], topic


@pytest.mark.parametrize("name", ["course_summary", "hybrid_ml"])
def test_exported_ids_do_not_name_their_answers(tmp_path, name):
    """Every id an export prints is neutral (bank prefix and number), so ids cannot hint at answers."""
    output = tmp_path / "out.md"
    result = CliRunner().invoke(quiz, ["export", name, "-f", "markdown", "-o", str(output)])
    assert result.exit_code == 0, result.output
    shown = re.findall(r"id `([^`]+)`", output.read_text())
    assert len(shown) == len(load_quiz(name).questions)
    assert all(re.fullmatch(r"[a-z]+-\d{3}", qid) for qid in shown), shown


def test_export_refuses_to_overwrite_without_force(tmp_path):
    """An existing file (perhaps a notebook with the learner's answers) is not overwritten unless --force."""
    output = export(tmp_path, "markdown")
    output.write_text("my answers")
    result = CliRunner().invoke(quiz, ["export", QUIZ, "-f", "markdown", "-o", str(output)])
    assert result.exit_code == 1 and "--force" in result.output
    assert output.read_text() == "my answers"
    result = CliRunner().invoke(quiz, ["export", QUIZ, "-f", "markdown", "-o", str(output), "--force"])
    assert result.exit_code == 0 and output.read_text() != "my answers"


def test_export_to_standard_output(tmp_path):
    """--output - prints the document instead of writing a file."""
    result = CliRunner().invoke(quiz, ["export", QUIZ, "-f", "markdown", "-o", "-", "--count", "2"])
    assert result.exit_code == 0
    assert result.output.startswith("# Building hybrid ML systems") and "## Question 2" in result.output
    assert "## Question 3" not in result.output
