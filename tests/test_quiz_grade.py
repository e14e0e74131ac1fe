"""`hml quiz grade`: answers files that are right, wrong or malformed, in text and JSON."""
from __future__ import annotations

import json
import re

import pytest
import yaml
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


def write(tmp_path, answers, name="answers.yaml"):
    path = tmp_path / name
    path.write_text(answers if isinstance(answers, str) else yaml.safe_dump(answers))
    return path


def grade(*args):
    return CliRunner().invoke(quiz, ["grade", QUIZ, *map(str, args)])


def grade_json(*args) -> dict:
    result = grade(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_right_answers_score_full_marks(tmp_path):
    """An answers file with every right answer (letters in bank order) scores 100%, in text and JSON."""
    bank = load_quiz(QUIZ)
    path = write(tmp_path, answer_key(select(bank, Selection())))
    result = grade(path)
    assert result.exit_code == 0, result.output
    assert f"Score: {len(bank.questions)}/{len(bank.questions)} (100%)" in result.output
    report = grade_json(path)
    assert report["percent"] == 100.0 and report["problems"] == []
    assert {q["status"] for q in report["questions"]} == {"correct"}


def test_letters_follow_the_seed_when_one_is_given(tmp_path):
    """With --seed, letters refer to the seeded layout; the same file read in bank order scores lower."""
    seeded_key = answer_key(select(load_quiz(QUIZ), Selection(seed=4)))
    path = write(tmp_path, seeded_key)
    assert grade_json(path, "--seed", 4)["percent"] == 100.0
    assert grade_json(path)["percent"] < 100.0


def test_choice_text_is_accepted_instead_of_letters(tmp_path):
    """Writing a choice's text (any case) instead of its letter is graded the same, whatever the seed."""
    bank = load_quiz(QUIZ)
    question = next(q for q in bank.questions if q.kind.value == "single")
    path = write(tmp_path, {question.id: next(iter(question.correct)).upper()})
    for seed in ([], ["--seed", 9]):
        statuses = {q["id"]: q["status"] for q in grade_json(path, *seed)["questions"]}
        assert statuses[question.id] == "correct"


def test_wrong_answers_are_marked_with_the_right_answer(tmp_path):
    """Wrong answers score 0 and each verdict shows the right answer."""
    bank = load_quiz(QUIZ)
    laid_out = select(bank, Selection(count=4))
    wrong = {}
    for p in laid_out:
        q = p.question
        if q.kind.has_choices:
            wrong[q.id] = next(p.letter(c) for c in p.choices if c not in q.correct)
        else:
            wrong[q.id] = "-1" if q.kind.value == "numeric" else "definitely not this"
    report = grade_json(write(tmp_path, wrong), "--count", 4)
    assert report["score"] == 0 and report["total"] == 4
    assert all(q["status"] == "wrong" and q["answer"] for q in report["questions"])
    text = grade(write(tmp_path, wrong), "--count", 4).output
    assert "✗ wrong" in text and "Score: 0/4 (0%)" in text


def test_malformed_entries_are_reported_not_crashed_on(tmp_path):
    """Unknown ids, letters out of range, unparsable numbers and mappings are reported per entry."""
    bank = load_quiz(QUIZ)
    single = next(q for q in bank.questions if q.kind.value == "single")
    numeric = next(q for q in bank.questions if q.kind.value == "numeric")
    multiple = next(q for q in bank.questions if q.kind.value == "multiple")
    path = write(tmp_path, {"no-such-question": "A", single.id: "Q", numeric.id: "twenty-four",
                            multiple.id: {"A": True}})
    result = grade(path)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    report = grade_json(path)
    by_id = {q["id"]: q for q in report["questions"]}
    assert by_id[single.id]["status"] == "invalid" and "'Q' is not a choice here" in by_id[single.id]["problem"]
    assert by_id[numeric.id]["status"] == "invalid" and "is not a number" in by_id[numeric.id]["problem"]
    assert by_id[multiple.id]["status"] == "invalid" and "got a mapping" in by_id[multiple.id]["problem"]
    assert report["problems"] == [{"id": "no-such-question",
                                   "problem": f"there is no question 'no-such-question' in '{QUIZ}'"}]
    assert report["score"] == 0


def test_yaml_booleans_and_numbers_reach_the_grader_as_written(tmp_path):
    """`no`, `1e3` or `01` are read as text, then per question type, so YAML cannot change an answer."""
    bank = load_quiz(QUIZ)
    tf_false = next(q for q in bank.questions if q.kind.value == "true_false" and "False" in q.correct)
    text_q = next(q for q in bank.questions if q.kind.value == "text")
    path = write(tmp_path, f"{tf_false.id}: no\n{text_q.id}: {text_q.accepted[0].upper()}\n")
    statuses = {q["id"]: q["status"] for q in grade_json(path)["questions"]}
    assert statuses[tf_false.id] == "correct" and statuses[text_q.id] == "correct"


def _text_question_accepting(bank, word):
    return next(q for q in bank.questions if q.kind.value == "text" and word in q.accepted)


@pytest.mark.parametrize("quiz_name,accepted,written", [
    ("course_summary", "prefetch", ".prefetch()"),
    ("course_summary", "prefetch", "prefetch"),
    ("course_summary", "TF_CONFIG", "`TF_CONFIG`"),
    ("course_summary", "composability", "Composability."),
    ("course_summary", "dynamic", "continuous training"),
    ("course_summary", "dynamic", "online learning"),
    ("hybrid_ml", "desserts", '"desserts"'),
])
def test_grade_accepts_normalised_short_text_answers(tmp_path, quiz_name, accepted, written):
    """`hml quiz grade` counts quoted, backticked, punctuated or called forms and listed synonyms as right."""
    bank = load_quiz(quiz_name)
    question = _text_question_accepting(bank, accepted)
    path = write(tmp_path, yaml.safe_dump({question.id: written}))
    result = CliRunner().invoke(quiz, ["grade", quiz_name, str(path), "--json", "--no-history"])
    assert result.exit_code == 0, result.output
    statuses = {q["id"]: q["status"] for q in json.loads(result.output)["questions"]}
    assert statuses[question.id] == "correct", written


def test_questions_outside_the_selection_are_reported(tmp_path):
    """With --count, answers to questions left out of the quiz are listed as not graded, not silently dropped."""
    bank = load_quiz(QUIZ)
    last = bank.questions[-1]
    report = grade_json(write(tmp_path, {last.id: "A"}), "--count", 2)
    assert report["total"] == 2 and {q["status"] for q in report["questions"]} == {"unanswered"}
    assert report["problems"][0]["id"] == last.id and "not part of the quiz" in report["problems"][0]["problem"]


@pytest.mark.parametrize("content,message", [
    ("- just\n- a list\n", "must be a mapping of question id to answer"),
    ("a: [unclosed\n", "is not valid YAML"),
    ("", "is empty"),
    ("a: B\na: C\n", "'a' appears twice"),
])
def test_an_unusable_answers_file_is_refused_with_a_message(tmp_path, content, message):
    """A file that is not a YAML mapping ends with a one-line error, exit status 1, no traceback."""
    result = grade(write(tmp_path, content))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_answers_file_and_unknown_quiz_are_plain_errors(tmp_path):
    """A missing answers file or an unknown quiz name gives a readable error, not a traceback."""
    result = grade(tmp_path / "nope.yaml")
    assert result.exit_code == 1 and "No answers file at" in result.output
    result = CliRunner().invoke(quiz, ["grade", "no_such_quiz", str(write(tmp_path, {"a": "B"}))])
    assert result.exit_code == 1 and "No quiz named 'no_such_quiz'" in result.output


def test_a_broken_bank_is_refused_by_the_commands(tmp_path):
    """Commands given a broken bank print the file, question id and problem, and exit 1."""
    bank = tmp_path / "bad.yaml"
    bank.write_text("title: t\nmodules: [M]\nquestions:\n  - {id: q1, module: M, topic: t, type: numeric,"
                    " prompt: p, answer: 1, tolerance: -2, explanation: e}\n")
    result = CliRunner().invoke(quiz, ["grade", str(bank), str(write(tmp_path, {"q1": "1"}))])
    assert result.exit_code == 1
    assert "bad.yaml is not a valid quiz bank" in result.output
    assert "question 'q1': 'tolerance' must be a non-negative number" in result.output


def test_list_shows_question_counts_per_module():
    """`quiz list` shows every bank with its number of questions per module."""
    result = CliRunner().invoke(quiz, ["list"])
    assert result.exit_code == 0, result.output
    for name in ("course_summary", "hybrid_ml"):
        bank = load_quiz(name)
        assert name in result.output
        for module, count in bank.counts_by_module().items():
            assert re.search(rf"{re.escape(module)}\s*│\s*{count}\s*│", result.output), (module, count)
        assert re.search(rf"Total\s*│\s*{len(bank.questions)}\s*│", result.output)
