"""The terminal session, driven through the CLI with scripted input: feedback, summary, retry, Ctrl-C."""
from __future__ import annotations

import re
import textwrap

import pytest
from click.testing import CliRunner
from rich.console import Console

from grader.commands.quiz import quiz
from grader.quiz import load_bank
from grader.quiz.answers_file import answer_key
from grader.quiz.history import History
from grader.quiz.selection import Presented, Selection, present, select
from grader.quiz.session import Session

BANK = textwrap.dedent("""\
    title: Tiny test quiz
    modules: [Serving, Training]
    questions:
      - id: s-lookup
        module: Serving
        topic: static inference
        type: single
        prompt: Which design serves precomputed predictions from a table?
        choices: ["Static inference", "Dynamic inference", "Federated learning"]
        answer: "Static inference"
        explanation: EXPLAIN-LOOKUP precomputed predictions are looked up.
      - id: s-benefits
        module: Serving
        topic: on-device inference
        type: multiple
        prompt: Which are benefits of on-device inference?
        choices: ["Works offline", "Unlimited model size", "Lower latency"]
        answer: ["Works offline", "Lower latency"]
        explanation: EXPLAIN-BENEFITS no network round trip.
      - id: t-freeze
        module: Training
        topic: freezing
        type: true_false
        prompt: A frozen graph can still be trained.
        answer: false
        explanation: EXPLAIN-FREEZE constants cannot be trained.
      - id: t-batch
        module: Training
        topic: global batch size
        type: numeric
        prompt: 4 replicas with 64 examples each make a global batch of how many?
        answer: 256
        tolerance: 0
        explanation: EXPLAIN-BATCH 4 x 64.
      - id: t-env
        module: Training
        topic: distribution
        type: text
        prompt: Which variable describes the cluster to TensorFlow?
        answer: ["TF_CONFIG"]
        explanation: EXPLAIN-ENV it is JSON.
""")
SEED = 3


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("HML_QUIZ_DIR", raising=False)
    monkeypatch.setenv("HML_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def bank_path(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(BANK)
    return path


def layout(bank_path, seed=SEED) -> list[Presented]:
    """The questions as the CLI will show them for this seed."""
    return select(load_bank(bank_path), Selection(seed=seed))


def right(presented: Presented) -> str:
    answer = answer_key([presented])[presented.question.id]
    return ", ".join(answer) if isinstance(answer, list) else answer


def wrong(presented: Presented) -> str:
    q = presented.question
    if q.kind.has_choices:
        return next(presented.letter(c) for c in presented.choices if c not in q.correct)
    return "1" if q.number is not None else "nothing"


def take(bank_path, lines: list[str], *args: str):
    return CliRunner().invoke(quiz, ["take", str(bank_path), "--seed", str(SEED), *args],
                              input="".join(line + "\n" for line in lines))


def test_a_whole_session_gives_feedback_explanations_and_a_summary(bank_path, data_dir):
    """One question at a time, lettered choices, immediate feedback with the explanation, score per module and topic."""
    questions = layout(bank_path)
    missed = questions[2]
    answers = [wrong(p) if p is missed else right(p) for p in questions]
    result = take(bank_path, answers + ["n"])
    assert result.exit_code == 0, result.output
    out = result.output
    for number, presented in enumerate(questions, start=1):
        assert f"Question {number}/5" in out
        assert presented.question.prompt in out
    assert "A) " in out and "C) " in out
    assert out.count("✓ Correct.") == 4 and out.count("✗ Not quite.") == 1
    assert f"The answer is {missed.answer_display()}" in out
    for tag in ("LOOKUP", "BENEFITS", "FREEZE", "BATCH", "ENV"):
        assert f"EXPLAIN-{tag}" in out
    assert "Score: 4/5 (80%)" in out
    assert re.search(r"Serving\s+\d/2", out) and re.search(r"Training\s+\d/3", out)
    assert re.search(r"global batch size\s+Training\s+\d/1", out)
    assert "Retry the 1 missed question(s)?" in out
    assert [(a.correct, a.asked, a.complete) for a in History().attempts()] == [(4, 5, True)]


def test_retry_offers_only_the_missed_questions(bank_path):
    """Answering y to the retry offer asks again only what was missed, then scores the retry separately."""
    questions = layout(bank_path)
    missed = [questions[0], questions[3]]
    first_round = [wrong(p) if p in missed else right(p) for p in questions]
    # The retry lays choices out afresh (round 1), so the learner rereads them instead of recalling a letter.
    second_round = [right(present(p.question, SEED, 1)) for p in missed]
    result = take(bank_path, first_round + ["y"] + second_round)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Retry 1: the 2 missed question(s)" in out
    retry_part = out.split("Retry 1:")[1]
    assert "Question 1/2" in retry_part and "Question 3/" not in retry_part
    assert missed[0].question.prompt in retry_part and questions[1].question.prompt not in retry_part
    assert "Retry score: 2/2 (100%)" in out
    attempts = History().attempts()
    assert [(a.retry, a.correct, a.asked) for a in attempts] == [(0, 3, 5), (1, 2, 2)]


def test_unreadable_input_is_explained_and_asked_again(bank_path):
    """A letter out of range or an unparsable number is reported and re-asked, never counted or crashed on."""
    questions = layout(bank_path)
    lines = []
    for p in questions:
        if p.question.kind.value == "single":
            lines += ["Z", ""]
        if p.question.kind.value == "numeric":
            lines += ["two hundred"]
        lines.append(right(p))
    result = take(bank_path, lines, "--no-retry")
    assert result.exit_code == 0, result.output
    assert "'Z' is not a choice here: the letters go from A to C. Try again." in result.output
    assert "'two hundred' is not a number" in result.output
    assert "Please answer with one letter, A to C" in result.output
    assert "Score: 5/5 (100%)" in result.output


def test_ctrl_c_ends_cleanly_with_the_partial_score(bank_path, monkeypatch):
    """KeyboardInterrupt from the input function stops the quiz, shows the partial score and exits 130."""
    questions = layout(bank_path)
    scripted = iter([right(questions[0]), wrong(questions[1])])

    def fake_input(prompt=""):
        try:
            return next(scripted)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr("builtins.input", fake_input)
    result = CliRunner().invoke(quiz, ["take", str(bank_path), "--seed", str(SEED)])
    assert result.exit_code == 130, result.output
    assert not isinstance(result.exception, KeyboardInterrupt)
    assert "Traceback" not in result.output
    assert "Stopped after 2 of 5 questions." in result.output
    assert "Partial score: 1/2 (50%)" in result.output
    assert "Retry the" not in result.output
    [attempt] = History().attempts()
    assert (attempt.correct, attempt.asked, attempt.planned, attempt.complete) == (1, 2, 5, False)


def test_end_of_input_is_treated_like_stopping(bank_path):
    """Running out of input (Ctrl-D, or a short script) ends the session like Ctrl-C, not with a traceback."""
    questions = layout(bank_path)
    result = take(bank_path, [right(questions[0])])
    assert result.exit_code == 130, result.output
    assert "Stopped after 1 of 5 questions." in result.output


def test_ctrl_c_at_the_retry_offer_just_ends_the_session(bank_path):
    """Interrupting the retry question keeps the finished score and ends without a retry."""
    questions = layout(bank_path)

    def ask(prompt: str) -> str:
        if prompt.startswith("Retry"):
            raise KeyboardInterrupt
        return wrong(questions[0])

    console = Console(record=True, width=100)
    rounds = Session(console, ask, seed=SEED).run(questions[:1])
    assert len(rounds) == 1 and not rounds[0].interrupted and rounds[0].missed
    assert "Score: 0/1" in console.export_text()


def test_without_seed_a_seed_is_drawn_and_shown_so_the_quiz_can_be_repeated(bank_path):
    """take without --seed shuffles with a fresh seed and prints it; that seed reproduces the same quiz."""
    lines = "A\nA\ntrue\n1\nx\n"
    drawn = CliRunner().invoke(quiz, ["take", str(bank_path), "--no-history", "--no-retry"], input=lines)
    match = re.search(r"seed (\d+): `--seed \1` repeats this quiz", drawn.output)
    assert match, drawn.output
    again = CliRunner().invoke(quiz, ["take", str(bank_path), "--no-history", "--no-retry",
                                      "--seed", match.group(1)], input=lines)
    assert again.output == drawn.output


def test_take_with_an_answers_file_runs_without_a_keyboard(bank_path, tmp_path):
    """take --answers shows each question with the file's answer and feedback, and reports stray entries."""
    questions = select(load_bank(bank_path), Selection())  # no seed: bank order, as the file's letters assume
    answers = tmp_path / "answers.yaml"
    answers.write_text("s-lookup: A\ns-benefits: [A, C]\nt-freeze: yes\nt-batch: 25x\nnot-a-question: B\n")
    result = CliRunner().invoke(quiz, ["take", str(bank_path), "--answers", str(answers)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "bank order (no --seed)" in out
    assert all(p.question.prompt in out for p in questions)
    assert "Your answer: A) Static inference" in out
    assert "Could not read '25x'" in out and "No answer." in out
    assert "Score: 2/5 (40%)" in out
    assert "not-a-question: there is no question 'not-a-question'" in out
    [attempt] = History().attempts()
    assert attempt.mode == "answers-file"


def test_wrong_multiple_select_feedback_names_what_was_left_out_and_what_was_extra(bank_path):
    """Feedback on a wrong multiple-select answer says which right choices were missed and which wrong ones picked."""
    from grader.quiz.grading import grade_answer
    from grader.quiz.render import feedback

    benefits = present(load_bank(bank_path).question("s-benefits"), None)  # A works offline, B unlimited, C latency
    console = Console(record=True, width=120)
    console.print(feedback(grade_answer(benefits, "A, B")))
    text = console.export_text()
    assert "You left out C and also picked B." in text
    assert "EXPLAIN-BENEFITS" in text


def test_bank_text_is_shown_literally_never_as_rich_markup():
    """Square brackets in a prompt, choice, module or topic are printed as typed, not taken as rich styles."""
    from grader.quiz import Question, QuestionKind
    from grader.quiz.grading import grade_answer
    from grader.quiz.render import feedback, question_panel

    q = Question(id="m", module="M [beta]", topic="shapes [advanced]", kind=QuestionKind.SINGLE,
                 prompt="Is [bold]x[/bold] a list?", explanation="e", choices=("[1, 2]", "[red]no[/red]"),
                 correct=frozenset({"[1, 2]"}))
    console = Console(record=True, width=120)
    console.print(question_panel(present(q, None), 1, 1))
    console.print(feedback(grade_answer(present(q, None), "B")))
    text = console.export_text()
    assert "[bold]x[/bold]" in text and "[red]no[/red]" in text and "M [beta]" in text
    assert "shapes [advanced]" in text


def test_topic_is_shown_only_after_the_answer():
    """A topic can give the answer away, so the question panel omits it and the feedback names it."""
    from grader.quiz import Question, QuestionKind
    from grader.quiz.grading import grade_answer
    from grader.quiz.render import feedback, question_panel

    q = Question(id="cs-001", module="Adaptable", topic="feedback loops", kind=QuestionKind.SINGLE,
                 prompt="Why does the recommender narrow?", explanation="e",
                 choices=("A feedback loop", "Concept drift"), correct=frozenset({"A feedback loop"}))
    console = Console(record=True, width=120)
    console.print(question_panel(present(q, None), 1, 1))
    before = console.export_text()
    assert "Adaptable" in before and "feedback loops" not in before
    console.print(feedback(grade_answer(present(q, None), "B")))
    assert "Topic: feedback loops" in console.export_text()
