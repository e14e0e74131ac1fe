"""``hml quiz ...``: self-check quizzes in the terminal, graded answer files, history and exports.

Start-up matters here: nothing heavy is imported (no TensorFlow, kfp or google.cloud), and
jinja2/nbformat are imported only by `export`. Quiz output goes through the shared console
with highlighting off: rich would otherwise colour numbers and words inside questions at random.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.text import Text

from grader.cli import GraderGroup
from grader.console import console, err_console, highlighting
from grader.errors import ExitCode
from grader.quiz import render
from grader.quiz.answers_file import grade_answers, grading_json, read_answers
from grader.quiz.errors import QuizBankError, QuizNotFound
from grader.quiz.grading import Scorecard
from grader.quiz.history import History
from grader.quiz.loader import bank_paths, load_bank, load_quiz, quiz_dir
from grader.quiz.selection import Selection, drawn_seed, select
from grader.quiz.session import Recorder, Session, enable_line_editing

ANSWERS_HELP = (
    "A YAML file mapping question id to answer (`id: B`, `id: [A, C]`, `id: true`, `id: 256`, "
    "`id: some text`). Letters follow the choice order of --seed, or the bank's order without "
    "--seed; the text of a choice works as well."
)


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


def _recorder(history_file: Path | None, no_history: bool, quiz: str, mode: str, selection: Selection) -> Recorder:
    history = None if no_history else History(history_file)
    return Recorder(history, quiz, mode, selection, warnings=err_console)


@click.group("quiz", cls=GraderGroup)
def quiz():
    """Self-check quizzes on Production ML Systems: take them, grade answer files, export them."""
    click.get_current_context().with_resource(highlighting(False))


@quiz.command("list")
def list_banks():
    """List the quizzes with their number of questions per module."""
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
    if answers_path is None and seed is None:
        seed = drawn_seed()
    selection = Selection(module, topic, count, seed)
    questions = select(bank, selection)
    answers = read_answers(answers_path) if answers_path else None
    mode = "answers-file" if answers is not None else "interactive"
    recorder = _recorder(history_file, no_history, bank.name, mode, selection)

    console.print(render.quiz_heading(bank, len(questions), seed))
    session = Session(console, lambda prompt: console.input(Text(prompt, style="bold")), seed=seed,
                      on_round=recorder)
    if answers is not None:
        session.replay(questions, answers)
        grading = grade_answers(bank, questions, answers)
        if grading.problems:
            console.print(render.entry_problems(grading.problems))
        return
    enable_line_editing()
    rounds = session.run(questions, offer_retry=retry)
    if rounds[-1].interrupted:
        click.get_current_context().exit(ExitCode.INTERRUPTED)  # scripts can tell a stopped quiz apart


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
    _recorder(history_file, no_history, bank.name, "grade", selection).record(
        grading.verdicts, planned=len(questions), complete=True)

    if as_json:
        click.echo(json.dumps(grading_json(bank.name, selection, grading), indent=2))
        return
    console.print(render.verdict_table(grading.verdicts))
    if grading.problems:
        console.print(render.entry_problems(grading.problems))
    console.print(render.scorecard(Scorecard.of(grading.verdicts)))


@quiz.command("history")
@click.option("--quiz", "quiz_name", metavar="QUIZ", help="Only attempts at this quiz.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many recent attempts to show.")
@click.option("--history-file", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite history file to read (default: in your data directory).")
def history(quiz_name, limit, history_file):
    """Show your scores over time and the topics you miss most often."""
    store = History(history_file)
    attempts = store.attempts(quiz_name, limit)
    if not attempts:
        console.print(f"No attempts recorded yet in {store.path}. Try `hml quiz take course_summary`.")
        return
    console.print(render.attempts_table(attempts))

    missed = store.most_missed(quiz_name)
    if not missed:
        console.print(Text("No missed topics so far.", style="green"))
        return
    console.print(render.missed_topics_table(missed))
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
    from grader.quiz.export import default_output, render as render_export, write

    bank = load_quiz(quiz_name)
    selection = Selection(module, topic, count, seed)
    text = render_export(bank, select(bank, selection), fmt, selection)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output = output or default_output(bank, fmt)
    write(text, output, force=force)
    console.print(f"Wrote {len(text):,} characters to {output} ({fmt}, {selection.describe()}).")
