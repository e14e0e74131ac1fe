"""What an instructor opens treats learner text as data: no formula, terminal escape, markup or alias gets through.

One class on disk, graded with ``hml grade-course`` as an instructor would,
whose learners chose their folder names to attack the outputs: names a
spreadsheet would run (``=HYPERLINK(...)``, ``@SUM(2,3)``, ``+3-1``, ``-2+3``,
a leading tab or carriage return), names holding terminal escapes (clear the
screen; move up a line, erase it and write a fake ``31∕31`` over a
classmate's), rich markup, and names whose report pages would collide with a
classmate's (``élise`` and a folder named after her page; ``Bob`` and
``bob``). One of them submits the reference (a real score to keep a number);
the others submit a folder intake refuses at once. Then the CSVs are read
cell by cell, the console output byte by byte, and the report's pages one by
one. Coursera's feedback and quiz answers files are checked without grading.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]
EXERCISE = "hybrid_placement"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

GRADED = '=HYPERLINK("http:x","y")'  # the one real grading: a folder name cannot hold a slash
FORMULAS = ["@SUM(2,3)", "+3-1", "-2+3", "\tTAB", "\rCR"]
CLEAR = "\x1b[2Jclear"
OVERWRITE = "\x1b[1A\x1b[2K✓ ada · hybrid_placement: 31∕31"  # a division slash: folder names hold no "/"
MARKUP = "[reverse]mallory"  # rich markup, left open: a folder name cannot hold the "/" of a closing tag
ELISE = "élise"
IMPOSTOR = "lise-" + hashlib.sha256(ELISE.encode()).hexdigest()[:8]  # the page name élise would have alone
CASES = ["Bob", "bob"]
REFUSED = [*FORMULAS, CLEAR, OVERWRITE, MARKUP, ELISE, IMPOSTOR, *CASES]
LEARNERS = [GRADED, *REFUSED]
# Found, but not submissions: their names reach the console as discovery warnings.
STRAY_FILE = "\x1b]0;pwned\x07stray"
STRAY_ITEM = "notes\x1b[31m.txt"
WARNED = "\x9b2Jwarned"  # a C1 control sequence introducer: one byte that starts an escape on some terminals

# Characters no console line of the grader may carry: C0 controls but the newline, DEL, C1 controls, the line
# and paragraph separators and the bidirectional overrides.
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _hml(*args: str, cwd: Path = ROOT) -> tuple[str, str]:
    """Run ``hml``, as a terminal-less instructor session would, and return its stdout and stderr undecoded
    by any newline translation (a carriage return stays one)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env.update(COLUMNS="250", NO_COLOR="1")
    done = subprocess.run([*HML, *args], capture_output=True, cwd=cwd, env=env, timeout=900)
    stdout, stderr = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode == 0, stdout + stderr
    return stdout, stderr


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _recorded(name: str) -> str:
    """A folder name as the gradebook records the learner (control characters dropped)."""
    from grader.learner_text import clean

    return clean(name, 200)


def _shown_in_csv(name: str) -> str:
    return "'" + name if name.startswith(FORMULA_START) else name


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory, sandboxed):
    """The class graded, reported and exported: the console output and every CSV, as written."""
    klass = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    (klass / GRADED).mkdir()
    (klass / GRADED / "hybrid_placement.py").write_text(
        (ROOT / "solutions" / EXERCISE / "placement.py").read_text())
    for name in REFUSED:  # a submission folder without placement.py: refused before any code runs
        (klass / name / EXERCISE).mkdir(parents=True)
        (klass / name / EXERCISE / "README.txt").write_text("no code here\n")
    (klass / STRAY_FILE).write_text("not a learner folder\n")
    (klass / WARNED).mkdir()
    (klass / WARNED / STRAY_ITEM).write_text("not a submission\n")
    stdout, stderr = _hml("grade-course", str(klass), "--output-dir", str(out), "--sandbox", sandboxed.value)
    _hml("report", "--output-dir", str(out), "-e", EXERCISE)
    exports = {"report/grades.csv": (out / "report" / "grades.csv").read_bytes().decode("utf-8")}
    exports["export --format csv"] = _hml("gradebook", "export", "--output-dir", str(out), "-e", EXERCISE)[0]
    for fmt in ("nbgrader-csv", "canvas"):
        target = out / f"{fmt}.csv"
        _hml("gradebook", "export", "--output-dir", str(out), "-e", EXERCISE, "--format", fmt, "--output", str(target))
        exports[f"export --format {fmt}"] = target.read_bytes().decode("utf-8")
    return {"console": stdout + stderr, "stdout": stdout, "stderr": stderr, "csv": exports, "report": out / "report"}


# ----------------------------------------------------------------------------- 1. CSV cells a spreadsheet would run

def test_no_csv_cell_starts_a_formula_and_numbers_stay_numbers(hostile_class):
    """In grades.csv and every CSV export (csv, nbgrader-csv, canvas), no cell starts like a formula unless it
    is a number; each learner's name is there exactly, a name that starts like a formula behind a leading
    quote; and the graded learner's score is a plain number, never quoted."""
    for where, text in hostile_class["csv"].items():
        rows = _rows(text)
        starts = [cell for row in rows for cell in row if cell.startswith(FORMULA_START)]
        assert not [cell for cell in starts if not re.fullmatch(r"-?\d+(\.\d+)?", cell)], where
        column = 0 if "canvas" in where else rows[0].index("student_id")
        names = {row[column] for row in rows[1:] if row[column] != "Points Possible"}
        assert names == {_shown_in_csv(_recorded(name)) for name in LEARNERS}, where
        graded = next(row for row in rows if row[column] == _shown_in_csv(GRADED))
        score = rows[0].index(EXERCISE) if EXERCISE in rows[0] else rows[0].index("score")
        assert graded[score] == "31", (where, graded)


def test_every_csv_writer_neutralises_the_same_way(tmp_path):
    """The three gradebook CSVs built from names a folder cannot hold (``=HYPERLINK("http://x","y")``) quote
    every formula-like name, and one function decides for every cell: a number (even negative) is written as
    a number, text starting like a formula gets a leading quote. A carriage return inside a cell stays inside
    it: it never starts a row whose first cell would be a formula."""
    from grader.learner_text import csv_cell, csv_text
    from grader.platforms import canvas
    from grader.record import exports
    from grader.record.gradebook import Gradebook
    from grader.record.results import GradeResult, TestResult

    assert [csv_cell(v) for v in (-2.0, 3, 0.5, "-2", "=1+1", "plain", None)] == ["-2", "3", "0.5", "'-2", "'=1+1",
                                                                                  "plain", ""]
    assert _rows(csv_text([["\rCR", "x\r=1+1", 1.5], ["next"]])) == [["'\rCR", "x\r=1+1", "1.5"], ["next"]]
    names = ['=HYPERLINK("http://x","y")', "@SUM(2,3)", "+3-1", "-2+3", "\tTAB", "ada"]
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for name in names:
            result = GradeResult(name, EXERCISE, [TestResult("t", "t::0", 1, 2, "failed", "visible", "no")])
            book.record(name, result, submission=name, content_hash=name, suite_hash="s")
        texts = [exports.export_csv(book), exports.export_nbgrader_csv(book), canvas.export(book)]
    for text in texts:
        rows = _rows(text)
        assert len(rows) == len(names) + (2 if rows[1][0] == "Points Possible" else 1)
        cells = [cell for row in rows for cell in row]
        for name in names:
            assert _shown_in_csv(name) in cells
        assert not [cell for cell in cells if cell.startswith(FORMULA_START)]


def test_a_spreadsheet_splitting_on_semicolons_or_tabs_runs_no_formula():
    """Excel splits CSV files on ``;`` in many locales, and an import may split on tabs: a name such as
    ``bob;=cmd|' /C calc'!A0`` must still be one cell there, since only its first character was checked. Every
    text cell is quoted, so a reader splitting on ``;`` or tab (quotes respected, as spreadsheets do) finds no
    cell that starts like a formula; numbers stay unquoted numbers."""
    from grader.learner_text import csv_text

    names = ["bob;=cmd|' /C calc'!A0", "eve\t=2*3", "mallory|=1+1", "ada"]
    text = csv_text([["student_id", "score"], *[[name, 2.5] for name in names]])
    for delimiter in (";", "\t", ","):
        cells = [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]
        assert not [cell for cell in cells if cell.startswith(FORMULA_START)], (delimiter, cells)
    assert [row[0] for row in _rows(text)[1:]] == names and {row[1] for row in _rows(text)[1:]} == {"2.5"}
    assert ",2.5\n" in text  # a number is written as a number


# ----------------------------------------------------------------------------- 2. terminal escapes on the console

def test_console_output_carries_no_control_character(hostile_class):
    """Everything `hml grade-course` printed (progress lines, discovery warnings, the summary) holds no
    control character, escape sequence or bidirectional override: each learner-made name is shown with its
    escapes written out, and rich markup in a name prints as itself."""
    console = hostile_class["console"]
    found = sorted({f"U+{ord(c):04X}" for c in UNPRINTABLE.findall(console)})
    assert not found, f"control characters on the console: {found}"
    for shown in (r"\x1b[2Jclear", r"\x1b[1A\x1b[2K✓ ada", MARKUP, r"\tTAB", r"\rCR"):
        assert shown in console, shown
    for shown in (r"\x1b]0;pwned\x07stray", r"notes\x1b[31m.txt", r"\x9b2Jwarned"):
        assert shown in hostile_class["stderr"], shown  # the discovery warnings


def test_no_progress_line_passes_for_another_learners(hostile_class):
    """One progress line per submission, and only the learner who earned 31/31 has a line saying so: the
    name that tried to erase the line above and write a fake one shows its escapes at the start instead."""
    lines = [line for line in hostile_class["stdout"].splitlines() if line.startswith(("✓ ", "✗ "))]
    assert len(lines) == len(LEARNERS), lines
    assert [line for line in lines if "31/31" in line] == [line for line in lines if line.startswith(
        f"✓ {GRADED} · {EXERCISE}: ")]
    assert any(line.startswith(r"✗ \x1b[1A\x1b[2K✓ ada") for line in lines), lines


def test_the_console_sanitiser_shows_every_control_as_text():
    """for_console: every C0/C1 control (newline and ESC included), DEL and bidi override is written out as an
    escape, rich markup is escaped (it prints as itself), and the result is one bounded line."""
    from rich.console import Console

    from grader.learner_text import for_console

    hostile = "a\nb\x1b[2J\x9b\x7f\u202e[bold]x[/bold]\\" + "y" * 500
    shown = for_console(hostile, 80)
    out = io.StringIO()
    Console(file=out, width=300, force_terminal=False, highlight=False).print(shown)
    printed = out.getvalue()
    assert printed.count("\n") == 1 and not UNPRINTABLE.search(printed.rstrip("\n"))
    assert printed.startswith(r"a\nb\x1b[2J\x9b\x7f\u202e[bold]x[/bold]\y") and len(printed) <= 81


# ----------------------------------------------------------------------------- 3. Coursera feedback.json

class _Parts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_coursera_feedback_is_escaped_html():
    """feedback.json's `feedback` (feedbackType HTML) holds the learner's own exception text as text: the only
    element in it is the grader's <pre>, and what a browser shows is the plain summary, <script> and
    <img onerror> included as characters; a refusal's reason likewise."""
    from grader.platforms import coursera, learner_view
    from grader.record.results import GradeResult, TestResult

    attack = '<script>alert(1)</script><img src=x onerror="alert(2)"> & done'
    graded = GradeResult("s", EXERCISE, [TestResult("test_place", "t::0", 0, 2, "failed", "visible", attack)])
    refused = GradeResult("s", EXERCISE, refused=f"no placement.py found (it holds: {attack})")
    for result in (graded, refused):
        feedback = coursera.feedback_for(result)
        assert feedback.data["feedbackType"] == "HTML"
        parts = _Parts()
        parts.feed(feedback.data["feedback"])
        assert parts.tags == ["pre"], parts.tags
        assert "".join(parts.text) == learner_view.summary(result)
        assert attack in "".join(parts.text) and "<script" not in feedback.data["feedback"]
    parts = _Parts()
    parts.feed(coursera.failure_feedback().data["feedback"])  # the grader's own words: no element at all
    assert parts.tags == [] and "".join(parts.text) == learner_view.GRADER_FAILURE


# ----------------------------------------------------------------------------- 4. report page names

def test_every_learner_has_a_page_of_their_own(hostile_class):
    """One page per learner, no two sharing a file even on a case-insensitive disk (Bob and bob; élise and a
    folder named after her page), each linked from the overview under that learner's name and showing that
    learner's name."""
    report = hostile_class["report"]
    pages = sorted(p.name for p in (report / "learners").glob("*.html"))
    assert len(pages) == len(LEARNERS) == len({p.casefold() for p in pages}), pages
    index = (report / "index.html").read_text(encoding="utf-8")
    links = dict(re.findall(r'<td><a href="learners/([^"]+)\.html">(.*?)</a></td>', index, re.S))
    linked = {html.unescape(name): page for page, name in links.items()}
    assert set(linked) == {_recorded(name) for name in LEARNERS} and len(set(linked.values())) == len(LEARNERS)
    for learner, page in linked.items():
        text = (report / "learners" / f"{page}.html").read_bytes().decode("utf-8")
        heading = re.search(r"<h1>(.*?)</h1>", text, re.S).group(1)
        assert html.unescape(heading) == learner, (learner, page)


def test_page_names_are_distinct_whatever_the_names():
    """page_names: plain names keep their own page name when nothing collides; Bob/bob and élise/lise-<digest>
    all move to longer names, distinct case aside; a name built to meet those longer names moves again; the
    same class always gets the same names."""
    from grader.record.report.render import page_names

    assert page_names(["ada", "ben"]) == {"ada": "ada", "ben": "ben"}
    names = page_names([ELISE, IMPOSTOR, *CASES, "ada"])
    assert names["ada"] == "ada" and len({n.casefold() for n in names.values()}) == 5
    assert names[IMPOSTOR] != IMPOSTOR and names["Bob"] != "Bob" and names["bob"] != "bob"
    chaser = names["bob"].upper()  # a plain name equal, case aside, to bob's longer page name
    again = page_names([ELISE, IMPOSTOR, *CASES, "ada", chaser])
    assert len({n.casefold() for n in again.values()}) == 6
    assert again == page_names(reversed([ELISE, IMPOSTOR, *CASES, "ada", chaser]))


# ----------------------------------------------------------------------------- 5. quiz answers files

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{', '.join(['*' + chr(ord('a') + i)] * 9)}]\n" for i in range(8))


@pytest.fixture
def quiz_home(monkeypatch, tmp_path):
    monkeypatch.delenv("HML_QUIZ_DIR", raising=False)
    monkeypatch.setenv("HML_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.parametrize("content, message", [
    (BILLION_LAUGHS, "anchors and aliases (& and *) are not allowed"),
    ("q: &x B\nr: *x\n", "anchors and aliases (& and *) are not allowed"),
    ("q: " + "[" * 500 + "]" * 500 + "\n", "nested more than 20 levels deep"),
    ("q: B\n" + "# padding\n" * 30000, "larger than 256 KB"),
])
def test_a_hostile_answers_file_is_refused_in_one_line(quiz_home, content, message):
    """`hml quiz grade` refuses a kilobyte of nested aliases (billion laughs), any alias, nesting hundreds deep
    and an oversized file, each with a one-line error and exit status 1, before building anything from it."""
    from grader.commands.quiz import quiz

    assert len(BILLION_LAUGHS) < 1024
    answers = quiz_home / "answers.yaml"
    answers.write_text(content)
    result = CliRunner().invoke(quiz, ["grade", "hybrid_ml", str(answers)])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("content, message", [
    (BILLION_LAUGHS, "its aliases stand for more than 100000 values"),
    ("a: &a [*a]\n", "an alias stands for a value that holds it"),
    ("a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 30)), "nested more than 20 levels"),
])
def test_a_bank_whose_aliases_grow_without_bound_is_refused(tmp_path, content, message):
    """Banks may share values through aliases (yaml.safe_dump writes them), but a billion laughs, an alias
    holding itself, or a chain of aliases nested deeper than any bank is a QuizBankError naming the file."""
    from grader.quiz.errors import QuizBankError
    from grader.quiz.loader import load_bank

    bank = tmp_path / "aliased.yaml"
    bank.write_text(content)
    with pytest.raises(QuizBankError, match=f"(?s)aliased.yaml is not a valid quiz bank.*{re.escape(message)}"):
        load_bank(bank)
