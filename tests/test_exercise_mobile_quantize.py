"""tflite_quantize graded end to end: reference, starter and the classic converter mistakes.

Each mistake is a converter setting left out or wrong. The flatbuffers are
judged by what is stored inside them (tensor types), their size and their
accuracy, in the evaluator. Mistakes in different functions share one
submission; the four full-integer mistakes need a submission each.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from grading_helpers import (
    mutate as _mutate,
    assert_lost as _lost,
    hidden_failures as _hidden_failures,
    hidden_test as _hidden,
    public_test as _public,
    assert_full_marks,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "tflite_quantize"
REFERENCE = ROOT / "solutions" / EXERCISE / "quantize.py"
STARTER = ROOT / "exercises" / EXERCISE / "quantize.py"
INT8_TESTS = {"test_full_int8_input_output", "test_full_int8_integer_only", "test_full_int8_size",
              "test_full_int8_accuracy"}


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    assert_full_marks(grade(EXERCISE, REFERENCE), hidden_tests=10)


def test_starter_earns_nothing(grade):
    """The starter as shipped raises NotImplementedError everywhere and earns nothing."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    _lost(_hidden(result, "test_float16_weights"), "not implemented yet")


def test_stand_in_model_earns_no_type_points(grade_source):
    """Every function converting a stand-in (the given model's architecture with fresh weights: the right
    tensor types, but not a conversion of the model given, with the reference's converter settings) earns
    nothing: the public type tests (4 of 26 points) say it is not a conversion of the model given."""
    source = _mutate(REFERENCE.read_text(), (
        "    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n",
        "    tf.keras.utils.set_random_seed(0)\n"
        "    stand_in = tf.keras.models.clone_model(model)  # the same layers, none of the model's weights\n"
        "    converter = tf.lite.TFLiteConverter.from_keras_model(stand_in)\n"))
    result = grade_source(EXERCISE, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    for name in ("test_dynamic_range_types", "test_float16_types", "test_full_int8_types"):
        _lost(_public(result, name), "is not a conversion of the model it was given")
    assert result.score == 0, [(t.name, t.score) for t in result.tests if t.passed]


def test_missing_settings_lose_points(grade_source):
    """Dynamic range without Optimize.DEFAULT (a float32 model), float16 without
    supported_types (dynamic range instead) and full int8 with float input and
    output each lose the points of their own tests, with a message naming the setting."""
    source = _mutate(
        REFERENCE.read_text(),
        ("def quantize_dynamic_range(model) -> bytes:\n    return _optimizing_converter(model).convert()",
         "def quantize_dynamic_range(model) -> bytes:\n    return tf.lite.TFLiteConverter.from_keras_model(model).convert()"),
        ("    converter.target_spec.supported_types = [tf.float16]\n", ""),
        ("    converter.inference_input_type = tf.int8\n    converter.inference_output_type = tf.int8\n", ""),
    )
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_dynamic_range_weights", "test_dynamic_range_size", "test_float16_weights",
        "test_full_int8_input_output"}
    _lost(_hidden(result, "test_dynamic_range_weights"), "unquantized float32 model", "Optimize.DEFAULT")
    _lost(_hidden(result, "test_dynamic_range_size"), "larger than 40%")
    _lost(_hidden(result, "test_float16_weights"), "int8 weights", "supported_types = [tf.float16]")
    _lost(_hidden(result, "test_full_int8_input_output"), "inference_input_type = tf.int8")
    assert _hidden(result, "test_full_int8_integer_only").passed  # the inside is still integer
    _lost(_public(result, "test_dynamic_range_types"), "Optimize.DEFAULT")


@pytest.mark.parametrize("mistake, edit, phrases", [
    ("no representative data set",
     ("    converter.representative_dataset = representative_dataset\n", ""),
     ("quantize_full_int8 raised", "needs a representative data set")),
    ("float64 representative data",
     ("    samples = np.asarray(representative_data, dtype=np.float32)",
      "    samples = np.asarray(representative_data, dtype=np.float64)"),
     ("quantize_full_int8 raised", "yields float64 arrays")),
    ("representative data of the wrong shape",
     ("yield [row[np.newaxis, :]]", "yield [row[:, np.newaxis]]"),
     ("quantize_full_int8 raised", "arrays of the wrong shape")),
    ("calibrated on random numbers",
     ("    samples = np.asarray(representative_data, dtype=np.float32)",
      "    samples = np.random.default_rng(0).random(np.shape(representative_data), dtype=np.float32)"),
     ("does not compute the function of the model it was given", "representative data you are given")),
])
def test_representative_data_mistakes_lose_points(grade_source, mistake, edit, phrases):
    """A full-integer conversion without a representative data set, with one of the wrong dtype or
    shape, or calibrated on random numbers instead of the given data, loses the full-integer tests (and
    only those) with a message naming it. The last one converts, but its outputs on hidden inputs are
    as far from the given model's as a stand-in's: nothing tells it from another model."""
    result = grade_source(EXERCISE, _mutate(REFERENCE.read_text(), edit))
    assert _hidden_failures(result) == INT8_TESTS, mistake
    for name in INT8_TESTS:
        _lost(_hidden(result, name), *phrases)
    # Hidden messages never quote the learner's exception (it can print calibration rows).
    assert "Unsupported value" not in _hidden(result, "test_full_int8_size").output


def test_weights_read_from_variables_are_named(grade_source):
    """A dynamic range flatbuffer converted from a concrete function with resource variables (its weights read
    at run time, NaN outputs) is told so, hidden and public, and not told to set Optimize.DEFAULT, which it
    did; the other functions keep their points."""
    source = _mutate(REFERENCE.read_text(), (
        "def quantize_dynamic_range(model) -> bytes:\n    return _optimizing_converter(model).convert()\n",
        "def quantize_dynamic_range(model) -> bytes:\n"
        "    function = tf.function(lambda x: model(x, training=False))\n"
        "    concrete = function.get_concrete_function(tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32))\n"
        "    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)\n"
        "    converter.experimental_enable_resource_variables = True\n"
        "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"
        "    return converter.convert()\n"))
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {"test_dynamic_range_weights", "test_dynamic_range_size",
                                        "test_dynamic_range_accuracy"}
    for test in (_hidden(result, "test_dynamic_range_weights"), _public(result, "test_dynamic_range_types")):
        _lost(test, "reads its weights from variables at run time", "from_keras_model")
        assert "Optimize.DEFAULT" not in test.output, test.output
