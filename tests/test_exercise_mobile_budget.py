"""mobile_budget graded end to end: reference, starter and the wrong strategies.

The hidden scenarios are built so that each fixed strategy fails one of
them (see solutions/mobile_budget/test_hidden.py): always float32, ignoring
the budget, measuring accuracy on the calibration data, never raising.
Each strategy is one submission (they all live in the same function).
"""
from __future__ import annotations

from pathlib import Path

from grading_helpers import (
    mutate as _mutate,
    assert_lost as _lost,
    hidden_failures as _hidden_failures,
    hidden_test as _hidden,
    public_test as _public,
    assert_full_marks,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "mobile_budget"
REFERENCE = ROOT / "solutions" / EXERCISE / "optimize.py"
STARTER = ROOT / "exercises" / EXERCISE / "optimize.py"


RAISE = ('    if not qualifying:\n        raise ValueError(f"infeasible: no variant is at most {max_bytes} bytes "\n'
         '                         f"with an accuracy of at least {min_accuracy}")\n')


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    assert_full_marks(grade(EXERCISE, REFERENCE), hidden_tests=8)


def test_starter_earns_nothing(grade):
    """The starter as shipped raises NotImplementedError and earns nothing."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    _lost(_hidden(result, "test_generous_budget_fits"), "not implemented yet")


def test_always_float32_loses_points(grade_source):
    """Always returning the float32 model: not the smallest, over a budget float16 meets, never infeasible."""
    source = _mutate(REFERENCE.read_text(), (
        "    qualifying = []\n",
        '    return convert_variant(model, "float32", calibration_data)\n    qualifying = []\n'))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_generous_budget_smallest", "test_quantization_that_hurts_is_rejected",
        "test_quantization_that_hurts_smallest", "test_infeasible_raises", "test_only_full_int8_qualifies",
        "test_accuracy_equal_to_the_floor_qualifies", "test_size_equal_to_the_budget_fits"}
    _lost(_hidden(result, "test_generous_budget_smallest"), "you returned the float32 variant", "smaller variant")
    _lost(_hidden(result, "test_size_equal_to_the_budget_fits"), "larger than the size budget")
    _lost(_hidden(result, "test_quantization_that_hurts_is_rejected"), "larger than the size budget")
    _lost(_hidden(result, "test_infeasible_raises"), "over the size budget")
    _lost(_public(result, "test_smallest_when_every_variant_keeps_accuracy"), "float32 model")


def test_ignoring_accuracy_loses_points(grade_source):
    """Returning the smallest variant that fits the budget, accuracy unmeasured, fails where 8-bit hurts."""
    source = _mutate(REFERENCE.read_text(), (
        "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:",
        "if len(content) <= max_bytes:"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_quantization_that_hurts_is_rejected", "test_infeasible_raises",
                                        "test_only_full_int8_qualifies", "test_accuracy_equal_to_the_floor_qualifies"}
    _lost(_hidden(result, "test_only_full_int8_qualifies"), "you returned the dynamic range variant",
          "only the full int8 variant meets both")
    _lost(_hidden(result, "test_quantization_that_hurts_is_rejected"), "below the floor",
          "quantization does not always keep accuracy")
    _lost(_hidden(result, "test_infeasible_raises"), "lose too much accuracy")
    _lost(_public(result, "test_float16_when_8bit_loses_accuracy"), "below the floor")


def test_ignoring_the_budget_loses_points(grade_source):
    """Choosing on accuracy alone returns a model over the budget where it should say infeasible."""
    source = _mutate(REFERENCE.read_text(), (
        "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:",
        "if accuracy(content, x_val, y_val) >= min_accuracy:"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_infeasible_raises"}
    _lost(_hidden(result, "test_infeasible_raises"), "over the size budget", "must fit max_bytes")
    _lost(_public(result, "test_infeasible_budget_raises"), "no variant fits 20000 bytes")


def test_accuracy_on_calibration_data_loses_points(grade_source):
    """Measuring accuracy on the (unlabelled) calibration data wrongly declares feasible budgets infeasible."""
    source = _mutate(REFERENCE.read_text(), (
        "accuracy(content, x_val, y_val) >= min_accuracy",
        "accuracy(content, calibration_data, y_val) >= min_accuracy"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_generous_budget_fits", "test_generous_budget_smallest",
        "test_quantization_that_hurts_is_rejected", "test_quantization_that_hurts_smallest",
        "test_only_full_int8_qualifies", "test_accuracy_equal_to_the_floor_qualifies",
        "test_size_equal_to_the_budget_fits"}
    for name in ("test_generous_budget_fits", "test_generous_budget_smallest",
                 "test_quantization_that_hurts_is_rejected", "test_quantization_that_hurts_smallest"):
        _lost(_hidden(result, name), "said 'infeasible'", "not on the calibration data")
    assert _hidden(result, "test_infeasible_raises").passed
    # The public test quotes the learner's ValueError once, the function named once (str() of the error
    # already begins "`optimize_for_device` raised").
    public = _public(result, "test_float16_when_8bit_loses_accuracy")
    _lost(public, "optimize_for_device raised ValueError: infeasible")
    assert "raised `optimize_for_device` raised" not in public.output, public.output


def test_never_raising_loses_points(grade_source):
    """Returning the smallest variant when none qualifies, instead of raising, loses the infeasible tests."""
    source = _mutate(REFERENCE.read_text(), (
        RAISE,
        "    if not qualifying:  # something is better than nothing\n"
        "        qualifying = [(len(c), v, c) for v, c in "
        "((v, convert_variant(model, v, calibration_data)) for v in VARIANTS)]\n"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_infeasible_raises"}
    _lost(_hidden(result, "test_infeasible_raises"), "lose too much accuracy", "raise ValueError('infeasible")
    _lost(_public(result, "test_infeasible_budget_raises"), "raise ValueError('infeasible")


def test_exact_boundaries_and_full_int8_are_graded(grade_source):
    """A strict budget (size < max_bytes), a strict floor (accuracy > min_accuracy) and never building full
    int8 each earn full marks nowhere: the scenarios where the budget equals a variant's size, the floor
    equals a variant's accuracy and only full int8 qualifies catch them, each with a message naming the rule
    (three mistakes in one submission: each scenario is met by only one of them)."""
    source = _mutate(REFERENCE.read_text(), (
        "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:",
        "if len(content) < max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_size_equal_to_the_budget_fits"}
    _lost(_hidden(result, "test_size_equal_to_the_budget_fits"), "equals max_bytes fits the budget", "(<=)")

    source = _mutate(REFERENCE.read_text(), (
        "accuracy(content, x_val, y_val) >= min_accuracy", "accuracy(content, x_val, y_val) > min_accuracy"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_accuracy_equal_to_the_floor_qualifies"}
    _lost(_hidden(result, "test_accuracy_equal_to_the_floor_qualifies"), "equals min_accuracy reaches the floor")

    source = _mutate(REFERENCE.read_text(), (
        "        x = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)\n",
        "        x = x.astype(np.int8)\n"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_only_full_int8_qualifies", "test_accuracy_equal_to_the_floor_qualifies"}
    _lost(_hidden(result, "test_only_full_int8_qualifies"), "quantize x_val with the input tensor's scale")
