"""`hml quiz ...`: self-check quizzes in the terminal, graded answer files, history and exports.

Start-up matters here: nothing heavy is imported (no TensorFlow, kfp or google.cloud), and
jinja2/nbformat are imported only by `export`.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import render
from .answers_file import grade_answers, read_answers
from grader.cli import GraderGroup
from grader.errors import ExitCode

from .errors import HistoryError, QuizBankError, QuizError, QuizNotFound
from .grading import Scorecard, Verdict
from .history import History
from .loader import bank_paths, load_bank, load_quiz, quiz_dir
from .selection import Selection, select
from .session import RoundResult, Session

ANSWERS_HELP = (
    "A YAML file mapping question id to answer (`id: B`, `id: [A, C]`, `id: true`, `id: 256`, "
    "`id: some text`). Letters follow the choice order of --seed, or the bank's order without "
    "--seed; the text of a choice works as well."
)


def _console(stderr: bool = False) -> Console:
    # highlight=False: rich would otherwise colour numbers and words inside questions at random.
    return Console(highlight=False, stderr=stderr)


def selection_options(command):
    options = [
        click.option("--module", "-m", metavar="M", help="Only questions whose module contains M (case ignored)."),
        click.option("--topic", "-t", metavar="T", help="Only questions whose topic contains T (case ignored)."),
        click.option("--count", "-n", type=click.IntRange(min=1), metavar="N", help="Ask at most N questions."),
        click.option("--seed", "-s", type=int, metavar="S",
                     help="Shuffle questions and choices reproducibly; the same S gives the same quiz."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def history_options(command):
    command = click.option("--history-file", type=click.Path(dir_okay=False, path_type=Path),
                           help="SQLite file for the attempt history (default: in your data directory; "
                                "the HML_DATA_DIR variable moves it).")(command)
    return click.option("--no-history", is_flag=True, help="Do not record this attempt.")(command)


class Recorder:
    """Writes attempts to the history; a history that cannot be written is a warning, not a failure."""

    def __init__(self, history: History | None, quiz: str, mode: str, selection: Selection):
        self.history, self.quiz, self.mode, self.selection = history, quiz, mode, selection

    def __call__(self, result: RoundResult) -> None:
        self.record(result.verdicts, planned=result.planned, complete=result.complete, retry=result.retry)

    def record(self, verdicts: list[Verdict], *, planned: int, complete: bool, retry: int = 0) -> None:
        if self.history is None or not verdicts:
            return
        try:
            self.history.record(quiz=self.quiz, mode=self.mode, selection=self.selection.describe(),
                                verdicts=verdicts, planned=planned, complete=complete, retry=retry)
        except HistoryError as err:
            _console(stderr=True).print(Text(f"Warning: {err}", style="yellow"))
            self.history = None  # one warning per session is enough


def _history(history_file: Path | None, no_history: bool = False) -> History | None:
    return None if no_history else History(history_file)


@click.group("quiz", cls=GraderGroup)
def quiz():
    """Self-check quizzes on Production ML Systems: take them, grade answer files, export them."""


@quiz.command("list")
def list_banks():
    """List the quizzes with their number of questions per module."""
    console = _console()
    paths = bank_paths()
    if not paths:
        raise QuizNotFound(f"No quiz banks in {quiz_dir()}.")
    for path in paths:
        try:
            console.print(render.bank_table(load_bank(path)))
        except QuizBankError as err:
            console.print(Text(str(err), style="red"))
        console.print()
    console.print(Text("Take one with: hml quiz take QUIZ [--module M] [--count N] [--seed S]", style="dim"))


@quiz.command("take")
@click.argument("quiz_name", metavar="QUIZ")
@selection_options
@click.option("--answers", "answers_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Answer from FILE instead of the keyboard. " + ANSWERS_HELP)
@click.option("--retry/--no-retry", default=True, show_default=True,
              help="At the end, offer to retry the missed questions.")
@history_options
def take(quiz_name, module, topic, count, seed, answers_path, retry, history_file, no_history):
    """Take QUIZ in the terminal: one question at a time, with feedback and a score.

    QUIZ is a bank name (see `hml quiz list`) or a path to a .yaml bank. Without
    --seed a seed is drawn and shown, so the same quiz can be taken again. Ctrl-C
    stops the quiz and shows the partial score (exit status 130).
    """
    bank = load_quiz(quiz_name)
    console = _console()
    if answers_path is None and seed is None:
        # A fresh seed each time, shown so the learner can repeat exactly this quiz.
        seed = random.SystemRandom().randrange(1, 10_000)
    selection = Selection(module, topic, count, seed)
    questions = select(bank, selection)
    answers = read_answers(answers_path) if answers_path else None
    mode = "answers-file" if answers is not None else "interactive"
    recorder = Recorder(_history(history_file, no_history), bank.name, mode, selection)

    console.print(Text(bank.title, style="bold"))
    order = f"seed {seed}: `--seed {seed}` repeats this quiz" if seed is not None else "bank order (no --seed)"
    console.print(Text(f"{len(questions)} questions · {order}", style="dim"))
    console.print()

    session = Session(console, lambda prompt: console.input(Text(prompt, style="bold")), seed=seed,
                      on_round=recorder)
    if answers is not None:
        session.replay(questions, answers)
        grading = grade_answers(bank, questions, answers)
        if grading.problems:
            console.print(render.entry_problems(grading.problems))
        return
    _enable_line_editing()
    rounds = session.run(questions, offer_retry=retry)
    if rounds[-1].interrupted:
        click.get_current_context().exit(ExitCode.INTERRUPTED)  # scripts can tell a stopped quiz apart


def _enable_line_editing() -> None:
    # Importing readline is what gives input() arrow keys and history; absent on some platforms.
    try:
        import readline  # noqa: F401
    except ImportError:
        pass


@quiz.command("grade")
@click.argument("quiz_name", metavar="QUIZ")
@click.argument("answers_path", metavar="ANSWERS.yaml", type=click.Path(dir_okay=False, path_type=Path))
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@history_options
def grade(quiz_name, answers_path, module, topic, count, seed, as_json, history_file, no_history):
    """Grade an answers file for QUIZ: score and a verdict per question.

    Every question of the quiz (as narrowed by --module/--topic/--count/--seed) is graded;
    a question missing from the file counts as unanswered.

    The file maps question id to answer. Letters refer to the choices as laid out by
    --seed (as `take --seed` and `export --seed` show them), or in the bank's order
    without --seed; the text of a choice works as well. For example:

    \b
        a-single-choice-id: B         # a letter, or the text of the choice
        a-multiple-select-id: [A, C]  # a list, or "A, C"
        a-true-false-id: true         # true/false, yes/no, or A/B
        a-numeric-id: 0.25            # a number
        a-short-text-id: some words   # case, quotes and end punctuation ignored
    """
    bank = load_quiz(quiz_name)
    selection = Selection(module, topic, count, seed)
    questions = select(bank, selection)
    grading = grade_answers(bank, questions, read_answers(answers_path))
    Recorder(_history(history_file, no_history), bank.name, "grade", selection).record(
        grading.verdicts, planned=len(questions), complete=True)

    card = Scorecard.of(grading.verdicts)
    if as_json:
        click.echo(json.dumps(_grade_json(bank.name, selection, grading, card), indent=2))
        return
    console = _console()
    console.print(render.verdict_table(grading.verdicts))
    if grading.problems:
        console.print(render.entry_problems(grading.problems))
    console.print(render.scorecard(card))


def _grade_json(quiz_name: str, selection: Selection, grading, card: Scorecard) -> dict:
    return {
        "quiz": quiz_name,
        "seed": selection.seed,
        "score": card.total.correct,
        "total": card.total.asked,
        "percent": round(card.total.percent, 1),
        "questions": [
            {"id": v.question.id, "module": v.question.module, "topic": v.question.topic,
             "status": v.status.value, "given": v.given, "problem": v.problem or None,
             "answer": v.presented.answer_display()}
            for v in grading.verdicts
        ],
        "problems": [{"id": p.question_id, "problem": p.message} for p in grading.problems],
        "by_module": card.to_dict()["by_module"],
        "by_topic": card.to_dict()["by_topic"],
    }


@quiz.command("history")
@click.option("--quiz", "quiz_name", metavar="QUIZ", help="Only attempts at this quiz.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many recent attempts to show.")
@click.option("--history-file", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite history file to read (default: in your data directory).")
def history(quiz_name, limit, history_file):
    """Show your scores over time and the topics you miss most often."""
    store = History(history_file)
    console = _console()
    attempts = store.attempts(quiz_name, limit)
    if not attempts:
        console.print(f"No attempts recorded yet in {store.path}. Try `hml quiz take course_summary`.")
        return
    table = Table(title="Attempts", title_justify="left", header_style="bold")
    table.add_column("When", no_wrap=True)
    table.add_column("Quiz", no_wrap=True)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Notes")
    for attempt in attempts:
        notes = [] if attempt.mode == "interactive" else [attempt.mode]
        if attempt.retry:
            notes.append(f"retry {attempt.retry}")
        if not attempt.complete:
            notes.append(f"stopped after {attempt.asked} of {attempt.planned}")
        notes.append(attempt.selection)
        table.add_row(attempt.taken_at.astimezone().strftime("%Y-%m-%d %H:%M"), attempt.quiz,
                      f"{attempt.correct}/{attempt.asked}", f"{attempt.percent:.0f}%",
                      Text("█" * round(attempt.percent / 20), style="green"), "; ".join(notes))
    console.print(table)

    missed = store.most_missed(quiz_name)
    if not missed:
        console.print(Text("No missed topics so far.", style="green"))
        return
    table = Table(title="Topics missed most often", title_justify="left", header_style="bold")
    table.add_column("Topic")
    table.add_column("Module")
    table.add_column("Missed", justify="right", no_wrap=True)
    for row in missed:
        table.add_row(row.topic, row.module, f"{row.missed} of {row.answered}")
    console.print(table)
    practise = quiz_name or attempts[-1].quiz
    console.print(Text(f'Practise it: hml quiz take {practise} --topic "{missed[0].topic}"', style="dim"))


@quiz.command("export")
@click.argument("quiz_name", metavar="QUIZ")
@click.option("--format", "-f", "fmt", type=click.Choice(["notebook", "markdown", "html"]), default="notebook",
              show_default=True, help="Jupyter notebook, Markdown page or HTML page.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to write ('-' for standard output; default: QUIZ-quiz.ipynb/.md/.html here).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@selection_options
def export(quiz_name, fmt, output, force, module, topic, count, seed):
    """Export QUIZ to work through offline; answers and explanations come at the end.

    Choices are lettered in the bank's order, or shuffled with --seed; grade the answers
    you save with `hml quiz grade` and the same options.
    """
    from .export import default_output, render as render_export

    bank = load_quiz(quiz_name)
    selection = Selection(module, topic, count, seed)
    text = render_export(bank, select(bank, selection), fmt, selection)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output = output or default_output(bank, fmt)
    if output.exists() and not force:
        # An exported notebook may hold the learner's answers by now; never overwrite it silently.
        raise QuizError(f"{output} exists; use --force to overwrite it or --output to choose another file.")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        raise QuizError(f"Cannot write {output}: {err}") from err
    _console().print(f"Wrote {len(text):,} characters to {output} ({fmt}, {selection.describe()}).")
