"""Question banks: every shipped bank passes the schema, and broken banks are refused clearly."""
from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from grader.quiz import Question, QuestionKind, QuizBankError, QuizNotFound, load_bank, load_quiz
from grader.quiz.loader import bank_paths, quiz_dir, resolve

ROOT = Path(__file__).resolve().parents[1]
BANKS = sorted((ROOT / "quizzes").glob("*.yaml"))
COURSE_MODULES = (
    "Architecting production ML systems",
    "Designing adaptable ML systems",
    "Designing high-performance ML systems",
    "Building hybrid ML systems",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("HML_QUIZ_DIR", raising=False)
    monkeypatch.setenv("HML_DATA_DIR", str(tmp_path / "data"))


def test_shipped_banks_are_found():
    """The project's quizzes/ directory is where named banks are looked up, and both banks are there."""
    assert quiz_dir() == ROOT / "quizzes"
    assert {p.stem for p in bank_paths()} >= {"course_summary", "hybrid_ml"}


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.stem)
def test_every_bank_passes_the_schema(path):
    """Each shipped bank loads: unique ids, known modules, answers among choices, explanations, tolerances."""
    bank = load_bank(path)
    ids = [q.id for q in bank.questions]
    assert len(ids) == len(set(ids))
    for q in bank.questions:
        assert q.module in bank.modules and q.topic and q.prompt and q.explanation
        if q.kind.has_choices:
            assert q.correct and q.correct <= set(q.choices)
        if q.kind is QuestionKind.NUMERIC:
            assert q.tolerance >= 0
        if q.kind is QuestionKind.TEXT:
            assert q.accepted


def test_course_summary_covers_every_module():
    """course_summary has at least 40 questions and at least 8 per course module, of every type."""
    bank = load_quiz("course_summary")
    assert len(bank.questions) >= 40
    counts = bank.counts_by_module()
    assert set(counts) == set(COURSE_MODULES)
    assert all(n >= 8 for n in counts.values()), counts
    assert set(Counter(q.kind for q in bank.questions)) == set(QuestionKind)


def test_hybrid_bank_is_about_the_hybrid_module():
    """hybrid_ml has at least 15 questions, all on the hybrid module, with mixed types."""
    bank = load_quiz("hybrid_ml")
    assert len(bank.questions) >= 15
    assert {q.module for q in bank.questions} == {"Building hybrid ML systems"}
    assert len({q.kind for q in bank.questions}) >= 4


STRATEGIES = ("MirroredStrategy", "MultiWorkerMirroredStrategy", "TPUStrategy", "ParameterServerStrategy")


def test_course_summary_covers_inference_and_strategies_as_answers():
    """High-performance inference has its own questions, and every distribution strategy is a right answer
    somewhere, not only a distractor."""
    bank = load_quiz("course_summary")
    inference = [q for q in bank.questions
                 if q.module == "Designing high-performance ML systems" and "inference" in q.topic]
    assert len(inference) >= 3, [q.id for q in inference]
    for name in STRATEGIES:
        right = [q.id for q in bank.questions if re.search(rf"\b{name}\b", q.answer_text())]
        assert right, f"{name} is never a right answer"


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.stem)
def test_right_answers_are_not_always_in_the_same_place(path):
    """Without a seed choices keep bank order, so the right answer must not sit in one position."""
    bank = load_bank(path)
    positions = Counter(q.choices.index(next(iter(q.correct))) for q in bank.questions if q.kind is QuestionKind.SINGLE)
    assert max(positions.values()) < 0.6 * sum(positions.values()), positions


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.stem)
def test_ids_are_neutral_numbers(path):
    """Learners see ids in exports and answers files, so an id is the bank's prefix and a number, never a hint."""
    ids = [q.id for q in load_bank(path).questions]
    prefixes = {qid.split("-")[0] for qid in ids}
    assert len(prefixes) == 1, prefixes
    assert all(re.fullmatch(r"[a-z]+-\d{3}", qid) for qid in ids), ids


# Choices are shuffled under --seed, so an explanation may only name a choice by what it says.
POSITIONAL = re.compile(
    r"(?i:\b(first|second|third|fourth|fifth|last|final|next|previous|preceding|remaining|former|latter"
    r"|top|bottom)\s+(two\s+|three\s+|few\s+)?(choice|option|answer|alternative)s?\b)"
    # "option B", "choice 2", "answer (c)": a bare letter must be a capital, or "an answer a learner..." matches.
    r"|(?i:\b(choice|option|answer|alternative)s?)\s+(\([A-Fa-f1-9]\)|[A-F1-9])(?=[\s.,;:)]|$)"
    r"|(?:^|\s)\(?[a-fA-F]\)(?=[\s,.;:])"
    r"|(?i:\bthe\s+(first|second|third|fourth|fifth|last)(\s+(one|two|three))?\s+(is|are|describes?|gives?)\b)"
    r"|(?i:\b(above|below|former|latter)\b)")


def positional_references(text: str) -> list[str]:
    return [match.group(0).strip() for match in POSITIONAL.finditer(" ".join(text.split()))]


def test_positional_reference_detector_catches_the_usual_phrasings():
    """The detector behind the next test flags positions and letters, and leaves ordinary prose alone."""
    for text in ("The second choice describes it.", "so the last two choices are wrong", "Option B is wrong",
                 "choice C fits", "(a) is tempting", "b) is tempting", "none of the above", "the latter is wrong",
                 "the third is float16"):
        assert positional_references(text), text
    for text in ("during the first epoch", "from the first step's output", "the tempting answer",
                 "an option of the converter", "f(x) is cheap", "Dynamic range is the simplest option."):
        assert not positional_references(text), text


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.stem)
def test_explanations_never_refer_to_choices_by_position(path):
    """Shuffling reorders choices, so "the second choice" or "option B" would name the wrong one."""
    found = {q.id: refs for q in load_bank(path).questions if (refs := positional_references(q.explanation))}
    assert not found, found


def _longest_choices(q: Question) -> list[str]:
    longest = max(len(c) for c in q.choices)
    return [c for c in q.choices if len(c) == longest]


def longest_is_right(q: Question) -> bool:
    """The strictly longest choice is a right one (a tie cues nothing)."""
    longest = _longest_choices(q)
    return len(longest) == 1 and longest[0] in q.correct


def pick_longest_score(questions: list[Question]) -> float:
    """Expected score of a learner who always picks the longest choice (ties broken at random)."""
    return sum(sum(c in q.correct for c in _longest_choices(q)) / len(_longest_choices(q)) for q in questions)


def avoid_shortest_score(questions: list[Question]) -> float:
    """Expected score of a learner who rules out the strictly shortest choice and guesses among the rest.

    Shortening right answers to fix the "longest wins" cue must not create the opposite cue.
    """
    def expected(q: Question) -> float:
        shortest = min(len(c) for c in q.choices)
        ruled_out = [c for c in q.choices if len(c) == shortest]
        if len(ruled_out) != 1:
            return 1 / len(q.choices)
        rest = [c for c in q.choices if c != ruled_out[0]]
        return sum(c in q.correct for c in rest) / len(rest)

    return sum(map(expected, questions))


def length_cue_problems(questions: list[Question]) -> list[str]:
    """Ways in which choice length gives answers away, in words; empty when it does not.

    Single choice: the right choice may be the strictly longest in at most a third of the
    questions, and neither "pick the longest" nor "rule out the shortest" may beat guessing by
    more than max(1, 10%) questions.
    Multiple select, judged per question: the longest choice may be a right one no more often
    than picking a choice at random would be (right choices / choices), plus the same margin.
    """
    problems = []
    single = [q for q in questions if q.kind is QuestionKind.SINGLE]
    multiple = [q for q in questions if q.kind is QuestionKind.MULTIPLE]
    if single:
        cued = sum(map(longest_is_right, single))
        if cued > math.ceil(len(single) / 3):
            problems.append(f"the right choice is the longest in {cued} of {len(single)} single-choice questions")
        chance = sum(1 / len(q.choices) for q in single)
        margin = max(1.0, 0.1 * len(single))
        if pick_longest_score(single) > chance + margin:
            problems.append(f"picking the longest scores {pick_longest_score(single):.1f} of {len(single)}, "
                            f"guessing {chance:.1f}")
        if avoid_shortest_score(single) > chance + margin:
            problems.append(f"ruling out the shortest scores {avoid_shortest_score(single):.1f} of {len(single)}, "
                            f"guessing {chance:.1f}")
    if multiple:
        cued = sum(map(longest_is_right, multiple))
        chance = sum(len(q.correct) / len(q.choices) for q in multiple)
        if cued > chance + max(1.0, 0.1 * len(multiple)):
            problems.append(f"the longest choice is right in {cued} of {len(multiple)} multiple-select "
                            f"questions, {chance:.1f} by chance")
    return problems


def _single(choices: tuple[str, ...], right: str, qid: str = "q") -> Question:
    return Question(id=qid, module="M", topic="t", kind=QuestionKind.SINGLE, prompt="p", explanation="e",
                    choices=choices, correct=frozenset({right}))


def test_length_cue_check_flags_a_bank_where_the_longest_choice_wins():
    """The check behind the next test refuses "longest is right" banks and accepts balanced ones."""
    cued = [_single(("no", "nope", "yes, because of a long reason"), "yes, because of a long reason", f"q{i}")
            for i in range(9)]
    assert length_cue_problems(cued)
    never_shortest = [_single(("no", "a wrong answer", "a right answer"), "a right answer", f"q{i}") for i in range(9)]
    assert any("shortest" in p for p in length_cue_problems(never_shortest))
    balanced = [_single(("a short one", "a middling choice", "the longest choice of all"),
                        ("a short one", "a middling choice", "the longest choice of all")[i % 3], f"q{i}")
                for i in range(9)]
    assert length_cue_problems(balanced) == []
    multiple = [Question(id=f"m{i}", module="M", topic="t", kind=QuestionKind.MULTIPLE, prompt="p", explanation="e",
                         choices=("w", "right and long", "ww"), correct=frozenset({"right and long"}))
                for i in range(6)]
    assert any("multiple-select" in p for p in length_cue_problems(multiple))


@pytest.mark.parametrize("path", BANKS, ids=lambda p: p.stem)
def test_choice_length_does_not_give_answers_away(path):
    """A learner who always picks the longest choice must score no better than guessing, give or take a little."""
    assert length_cue_problems(list(load_bank(path).questions)) == []


GOOD_QUESTION = {
    "id": "q1", "module": "M", "topic": "t", "type": "single", "prompt": "p?",
    "choices": ["yes it is", "no it is not"], "answer": "yes it is", "explanation": "because",
}


def write_bank(tmp_path: Path, questions: list[dict], **top) -> Path:
    data = {"title": "Test bank", "modules": ["M"], "questions": questions, **top}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


BROKEN = {
    "duplicate id": ([GOOD_QUESTION, GOOD_QUESTION], "q1", "ids must be unique"),
    "answer not a choice": ([{**GOOD_QUESTION, "answer": "maybe"}], "q1", "'maybe' is not one of the choices"),
    "no correct choice": ([{**GOOD_QUESTION, "type": "multiple", "answer": []}], "q1", "at least one choice"),
    "missing explanation": ([{k: v for k, v in GOOD_QUESTION.items() if k != "explanation"}], "q1",
                            "'explanation' is missing"),
    "empty topic": ([{**GOOD_QUESTION, "topic": " "}], "q1", "'topic' is missing or empty"),
    "missing module": ([{k: v for k, v in GOOD_QUESTION.items() if k != "module"}], "q1", "'module' is missing"),
    "unknown module": ([{**GOOD_QUESTION, "module": "Other"}], "q1", "not one of the bank's modules"),
    "negative tolerance": ([{"id": "n1", "module": "M", "topic": "t", "type": "numeric", "prompt": "p",
                            "answer": 3, "tolerance": -1, "explanation": "e"}], "n1", "non-negative"),
    "true_false answer": ([{"id": "tf", "module": "M", "topic": "t", "type": "true_false", "prompt": "p",
                            "answer": "yes", "explanation": "e"}], "tf", "must be true or false"),
    "unquoted boolean choice": ([{**GOOD_QUESTION, "choices": [True, "no it is not"]}], "q1", "put it in quotes"),
    "unknown type": ([{**GOOD_QUESTION, "type": "essay"}], "q1", "'type' must be one of"),
    "misspelt key": ([{**GOOD_QUESTION, "explaination": "x"}], "q1", "unknown key 'explaination'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_broken_bank_is_refused_naming_file_question_and_problem(tmp_path, case):
    """A bank that breaks the schema raises QuizBankError naming the file, the question id and the problem."""
    questions, qid, problem = BROKEN[case]
    path = write_bank(tmp_path, questions)
    with pytest.raises(QuizBankError) as caught:
        load_bank(path)
    message = str(caught.value)
    assert "broken.yaml" in message
    assert f"question {qid!r}" in message
    assert problem in message, message


def test_all_problems_of_a_bank_are_reported_at_once(tmp_path):
    """Authors see every problem in one go, not one per run."""
    questions = [{**GOOD_QUESTION, "answer": "maybe"}, {**GOOD_QUESTION, "id": "q2", "explanation": ""}]
    with pytest.raises(QuizBankError) as caught:
        load_bank(write_bank(tmp_path, questions))
    assert [p.question_id for p in caught.value.problems] == ["q1", "q2"]


def test_invalid_yaml_and_duplicate_keys_are_refused_with_a_line_number(tmp_path):
    """YAML errors, including a key given twice (which PyYAML would silently drop), name the line."""
    path = tmp_path / "dup.yaml"
    path.write_text(textwrap.dedent("""\
        title: t
        modules: [M]
        questions:
          - id: q1
            id: q2
    """))
    with pytest.raises(QuizBankError, match=r"line 5.*'id' appears twice"):
        load_bank(path)
    path.write_text("title: [unclosed\n")
    with pytest.raises(QuizBankError, match="not valid YAML"):
        load_bank(path)


def test_quiz_argument_accepts_names_paths_and_the_env_override(tmp_path, monkeypatch):
    """QUIZ is a bank name, a path to a .yaml file, or a name looked up in $HML_QUIZ_DIR."""
    path = write_bank(tmp_path, [GOOD_QUESTION])
    assert resolve(str(path)) == path
    assert resolve("course_summary").name == "course_summary.yaml"
    with pytest.raises(QuizNotFound, match="Available quizzes: .*course_summary"):
        resolve("no_such_quiz")
    monkeypatch.setenv("HML_QUIZ_DIR", str(tmp_path))
    assert load_quiz("broken").title == "Test bank"
