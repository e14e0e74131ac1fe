"""Attempt history: recorded in SQLite, shown as scores over time and most-missed topics."""
from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner

from grader.commands.quiz import quiz
from grader.quiz import load_quiz
from grader.quiz.answers_file import answer_key
from grader.quiz.history import History, default_path
from grader.quiz.selection import Selection, select

QUIZ = "hybrid_ml"


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("HML_QUIZ_DIR", raising=False)
    monkeypatch.setenv("HML_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def answers_file(tmp_path, name, wrong_topic: str | None):
    """Right answers to the whole bank, except every question of ``wrong_topic`` is answered wrongly."""
    laid_out = select(load_quiz(QUIZ), Selection())
    key = answer_key(laid_out)
    for p in laid_out:
        if p.question.topic == wrong_topic:
            key[p.question.id] = "-999" if not p.question.kind.has_choices else \
                next(p.letter(c) for c in p.choices if c not in p.question.correct)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(key))
    return path


def test_two_attempts_show_as_scores_over_time_with_the_most_missed_topic(tmp_path):
    """After two graded attempts, `quiz history` lists both scores in order and the topic missed most."""
    history_file = tmp_path / "h.sqlite3"
    bank = load_quiz(QUIZ)
    quantization = sum(q.topic == "quantization" for q in bank.questions)
    federated = sum(q.topic == "federated learning" for q in bank.questions)
    total = len(bank.questions)
    runner = CliRunner()
    for name, topic in (("first.yaml", "quantization"), ("second.yaml", "federated learning")):
        result = runner.invoke(quiz, ["grade", QUIZ, str(answers_file(tmp_path, name, topic)),
                                      "--history-file", str(history_file)])
        assert result.exit_code == 0, result.output

    attempts = History(history_file).attempts()
    assert [(a.correct, a.asked) for a in attempts] == [(total - quantization, total), (total - federated, total)]
    assert attempts[0].taken_at <= attempts[1].taken_at

    result = runner.invoke(quiz, ["history", "--history-file", str(history_file)])
    assert result.exit_code == 0, result.output
    out = result.output
    first, second = out.index(f"{total - quantization}/{total}"), out.index(f"{total - federated}/{total}")
    assert first < second, "attempts are listed oldest first"
    missed = out.split("Topics missed most often")[1]
    rows = [line for line in missed.splitlines() if re.search(r"\d+ of \d+", line)]
    top = "quantization" if quantization >= federated else "federated learning"
    assert top in rows[0]
    assert len(rows) == 2 and any("federated learning" in row for row in rows)
    assert f"{quantization} of {quantization * 2}" in missed


def test_history_defaults_to_the_data_directory(data_dir, tmp_path):
    """Without --history-file, attempts go to $HML_DATA_DIR/quiz_history.sqlite3 (created on first use)."""
    assert default_path() == data_dir / "quiz_history.sqlite3"
    result = CliRunner().invoke(quiz, ["grade", QUIZ, str(answers_file(tmp_path, "a.yaml", None))])
    assert result.exit_code == 0, result.output
    assert (data_dir / "quiz_history.sqlite3").is_file()
    assert len(History().attempts()) == 1


def test_no_history_records_nothing(data_dir, tmp_path):
    """--no-history leaves no trace."""
    result = CliRunner().invoke(quiz, ["grade", QUIZ, str(answers_file(tmp_path, "a.yaml", None)), "--no-history"])
    assert result.exit_code == 0, result.output
    assert not (data_dir / "quiz_history.sqlite3").exists()


def test_an_unwritable_history_is_a_warning_not_a_failure(tmp_path):
    """If the history cannot be written, grading still succeeds and says why the attempt was not saved."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    result = CliRunner().invoke(quiz, ["grade", QUIZ, str(answers_file(tmp_path, "a.yaml", None)),
                                       "--history-file", str(blocker / "h.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "Warning: Cannot open the quiz history" in result.output
    assert "Score: " in result.output


def test_empty_history_says_how_to_start(tmp_path):
    """With no attempts yet, `quiz history` explains how to take a quiz instead of printing empty tables."""
    result = CliRunner().invoke(quiz, ["history", "--history-file", str(tmp_path / "none.sqlite3")])
    assert result.exit_code == 0
    assert "No attempts recorded yet" in result.output


def test_a_corrupt_history_file_is_a_readable_error(tmp_path):
    """A history file that is not SQLite gives a message naming it, not a traceback."""
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    result = CliRunner().invoke(quiz, ["history", "--history-file", str(bad)])
    assert result.exit_code == 1
    assert "bad.sqlite3" in result.output and "Traceback" not in result.output
