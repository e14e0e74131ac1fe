"""Reading answers (letters, choice text, numbers, short text) and laying out quizzes with a seed."""
from __future__ import annotations

import pytest

from grader.quiz import AnswerError, Question, QuestionKind, SelectionError, load_quiz
from grader.quiz.grading import Scorecard, Status, grade_answer
from grader.quiz.model import TRUE_FALSE_CHOICES
from grader.quiz.responses import interpret
from grader.quiz.selection import Presented, Selection, present, select


def question(kind: QuestionKind, **fields) -> Question:
    base = dict(id=f"q-{kind.value}", module="M", topic="t", kind=kind, prompt="p", explanation="e")
    return Question(**{**base, **fields})


SINGLE = Presented(question(QuestionKind.SINGLE, choices=("Pub/Sub", "Cloud Storage", "Bigtable"),
                            correct=frozenset({"Cloud Storage"})),
                   ("Pub/Sub", "Cloud Storage", "Bigtable"))
MULTIPLE = Presented(question(QuestionKind.MULTIPLE, choices=("one", "two", "three", "four"),
                              correct=frozenset({"one", "three"})),
                     ("one", "two", "three", "four"))
TRUE_FALSE = Presented(question(QuestionKind.TRUE_FALSE, choices=TRUE_FALSE_CHOICES, correct=frozenset({"False"})),
                       TRUE_FALSE_CHOICES)
NUMERIC = Presented(question(QuestionKind.NUMERIC, number=1.75, tolerance=0.01), ())
TEXT = Presented(question(QuestionKind.TEXT, accepted=("TF_CONFIG", "tf config")), ())


@pytest.mark.parametrize("raw", ["B", "b", " b ", "cloud storage", "  Cloud   Storage "])
def test_single_choice_accepts_a_letter_or_the_choice_text(raw):
    """A single-choice answer may be the letter (any case) or the choice's text (case and spacing ignored)."""
    assert grade_answer(SINGLE, raw).status is Status.CORRECT


@pytest.mark.parametrize("raw", ["A, C", "a,c", "AC", "a c", "C;A", ["A", "C"], ["one", "c"], "A, C, A"])
def test_multiple_select_accepts_several_spellings(raw):
    """Multiple select takes "A, C", "AC", "A C", a YAML list, or choice texts, in any order."""
    assert grade_answer(MULTIPLE, raw).status is Status.CORRECT


@pytest.mark.parametrize("raw", ["A", "A, B, C", "A, C, D"])
def test_multiple_select_needs_exactly_the_right_set(raw):
    """Missing or extra choices make a multiple-select answer wrong (no partial credit)."""
    assert grade_answer(MULTIPLE, raw).status is Status.WRONG


@pytest.mark.parametrize("raw,status", [("false", Status.CORRECT), ("F", Status.CORRECT), ("no", Status.CORRECT),
                                        ("B", Status.CORRECT), ("True", Status.WRONG), ("yes", Status.WRONG),
                                        ("A", Status.WRONG)])
def test_true_false_accepts_words_and_letters(raw, status):
    """True/false answers may be true/false, t/f, yes/no or the letters A/B."""
    assert grade_answer(TRUE_FALSE, raw).status is status


@pytest.mark.parametrize("raw,status", [("1.75", Status.CORRECT), ("1.76", Status.CORRECT), ("1.7401", Status.CORRECT),
                                        ("1.77", Status.WRONG), ("1.5", Status.WRONG), ("+1.75", Status.CORRECT)])
def test_numeric_answers_count_within_the_tolerance(raw, status):
    """A number within the tolerance (inclusive) is right; outside it is wrong."""
    assert grade_answer(NUMERIC, raw).status is status


@pytest.mark.parametrize("raw,status", [("TF_CONFIG", Status.CORRECT), ("  tf_config ", Status.CORRECT),
                                        ("TF CONFIG", Status.CORRECT), ("TF_CONFIGS", Status.WRONG)])
def test_text_answers_ignore_case_and_surrounding_space(raw, status):
    """Short text matches any accepted answer regardless of case and surrounding white space."""
    assert grade_answer(TEXT, raw).status is status


PREFETCH = Presented(question(QuestionKind.TEXT, accepted=("prefetch",)), ())
DESSERTS = Presented(question(QuestionKind.TEXT, accepted=("desserts",)), ())


@pytest.mark.parametrize("presented,raw", [
    (PREFETCH, "prefetch"), (PREFETCH, ".prefetch()"), (PREFETCH, "prefetch()"), (PREFETCH, "`prefetch`"),
    (PREFETCH, "ds.prefetch(tf.data.AUTOTUNE)"), (PREFETCH, "tf.data.Dataset.prefetch"), (PREFETCH, '"prefetch()".'),
    (DESSERTS, '"desserts"'), (DESSERTS, "'desserts'."), (DESSERTS, "“desserts”"), (DESSERTS, "Desserts!"),
    (TEXT, "`TF_CONFIG`"), (TEXT, "$TF_CONFIG"), (TEXT, '"TF_CONFIG"'),
])
def test_text_answers_ignore_quotes_backticks_punctuation_and_calls(presented, raw):
    """Quotes, backticks, a trailing full stop, a trailing call and a dotted qualifier do not fail a right answer."""
    assert grade_answer(presented, raw).status is Status.CORRECT


@pytest.mark.parametrize("presented,raw", [
    (PREFETCH, "cache()"), (PREFETCH, "prefetcher"), (PREFETCH, "prefetch.cache"), (PREFETCH, "()"),
    (DESSERTS, '"stressed"'), (DESSERTS, "dessert"), (TEXT, "`TF_CONFIGS`"),
])
def test_text_normalisation_keeps_wrong_answers_wrong(presented, raw):
    """Normalising strips wrapping only: a different word, or an empty one, is still wrong."""
    assert grade_answer(presented, raw).status is Status.WRONG


def test_text_key_applies_to_the_accepted_answers_too():
    """Accepted answers written with backticks or a call in the bank match the plain word, and hyphens read as spaces."""
    from grader.quiz.responses import text_key, text_matches

    assert text_matches("prefetch", ("`dataset.prefetch()`",))
    assert text_matches("continuous-training", ("Continuous training",))
    assert text_key("3.5") == "3.5", "numbers are not dotted names"


@pytest.mark.parametrize("presented,raw,message", [
    (SINGLE, "D", "'D' is not a choice here: the letters go from A to C"),
    (SINGLE, "A, B", "pick one choice only"),
    (SINGLE, "Dataflow", "neither a letter from A to C nor the text of a choice"),
    (MULTIPLE, "A, E", "'E' is not a choice here"),
    (TRUE_FALSE, "maybe", "not true or false"),
    (NUMERIC, "about two", "'about two' is not a number"),
    (NUMERIC, "nan", "not a finite number"),
    (NUMERIC, ["1", "2"], "give one answer only"),
    (SINGLE, {"a": "b"}, "got a mapping"),
])
def test_unreadable_answers_are_explained_not_crashed_on(presented, raw, message):
    """Letters out of range, unparsable numbers and wrong shapes raise AnswerError saying what was expected."""
    with pytest.raises(AnswerError, match=message):
        interpret(presented, raw)
    verdict = grade_answer(presented, raw)
    assert verdict.status is Status.INVALID and message in verdict.problem


def test_blank_answers_are_unanswered():
    """An empty answer is 'unanswered', not wrong and not unreadable."""
    assert grade_answer(SINGLE, "  ").status is Status.UNANSWERED
    assert grade_answer(MULTIPLE, []).status is Status.UNANSWERED
    assert grade_answer(NUMERIC, None).status is Status.UNANSWERED


def test_seed_makes_order_sampling_and_choices_reproducible():
    """The same seed gives the same questions, order and choice layout; another seed gives another quiz."""
    bank = load_quiz("course_summary")
    first = select(bank, Selection(count=10, seed=1))
    again = select(bank, Selection(count=10, seed=1))
    other = select(bank, Selection(count=10, seed=2))
    assert first == again
    assert [p.question.id for p in first] != [p.question.id for p in other]
    shuffled = [p for p in select(bank, Selection(seed=1)) if p.choices != p.question.choices]
    assert shuffled, "a seed should shuffle at least some choices"


def test_choice_letters_for_a_seed_do_not_depend_on_the_filters():
    """A question's letters depend on (seed, id) only, so --count or --module do not change them."""
    bank = load_quiz("course_summary")
    whole = {p.question.id: p.choices for p in select(bank, Selection(seed=7))}
    narrowed = select(bank, Selection(module="hybrid", count=3, seed=7))
    assert all(whole[p.question.id] == p.choices for p in narrowed)


def test_without_a_seed_the_bank_order_is_kept():
    """No seed: questions and choices appear exactly as in the bank (the order answers files refer to)."""
    bank = load_quiz("hybrid_ml")
    laid_out = select(bank, Selection(count=5))
    assert [p.question for p in laid_out] == list(bank.questions[:5])
    assert all(p.choices == p.question.choices for p in laid_out)


def test_true_false_choices_are_never_shuffled():
    """True stays A and False stays B whatever the seed: shuffling two fixed words only confuses."""
    assert all(present(TRUE_FALSE.question, seed).choices == TRUE_FALSE_CHOICES for seed in range(20))


def test_module_and_topic_filters_match_case_insensitive_substrings():
    """--module hybrid picks the hybrid module; a filter matching nothing lists the valid names."""
    bank = load_quiz("course_summary")
    hybrid = select(bank, Selection(module="HYBRID"))
    assert hybrid and {p.question.module for p in hybrid} == {"Building hybrid ML systems"}
    assert {p.question.topic for p in select(bank, Selection(topic="tf.data"))} == {"tf.data"}
    with pytest.raises(SelectionError, match="Modules to choose from: .*Building hybrid ML systems"):
        select(bank, Selection(module="astronomy"))


def test_scorecard_totals_per_module_and_topic():
    """The summary counts right answers overall, per module and per topic."""
    verdicts = [grade_answer(SINGLE, "B"), grade_answer(MULTIPLE, "A"),
                grade_answer(Presented(question(QuestionKind.TEXT, module="N", topic="u", accepted=("x",)), ()), "x")]
    card = Scorecard.of(verdicts)
    assert (card.total.correct, card.total.asked) == (2, 3)
    assert {m: (t.correct, t.asked) for m, t in card.by_module.items()} == {"M": (1, 2), "N": (1, 1)}
    assert card.by_topic[("M", "t")].asked == 2

