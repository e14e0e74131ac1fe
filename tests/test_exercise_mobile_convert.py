"""tflite_convert graded end to end: reference, starter and typical mistakes.

Each submission goes through intake, the sandbox (TensorFlow in the
learner's worker, LiteRT in the evaluator) and the public and hidden tests,
exactly as an instructor's grading would. Mistakes that different tests
catch share one submission.
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
EXERCISE = "tflite_convert"
REFERENCE = ROOT / "solutions" / EXERCISE / "convert.py"
STARTER = ROOT / "exercises" / EXERCISE / "convert.py"


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    assert_full_marks(grade(EXERCISE, REFERENCE), hidden_tests=8)


def test_starter_earns_nothing(grade):
    """The starter as shipped raises NotImplementedError everywhere and earns nothing."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    assert "NotImplementedError" in _public(result, "test_to_tflite_is_float32").output
    _lost(_hidden(result, "test_predict_any_batch_size"), "not implemented yet")


def test_quantized_conversion_and_float64_output_lose_points(grade_source):
    """to_tflite that optimizes (quantizes) and predict_tflite returning float64 each lose their own tests."""
    source = _mutate(
        REFERENCE.read_text(),
        ("    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n    return converter.convert()",
         "    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n"
         "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n    return converter.convert()"),
        ("return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)",
         "return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=float)"),
    )
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_to_tflite_float32", "test_to_tflite_matches_keras", "test_predict_returns_float32"}
    _lost(_hidden(result, "test_to_tflite_float32"), "no optimizations", "int8")
    _lost(_hidden(result, "test_to_tflite_matches_keras"), "does not compute the Keras model's function")
    _lost(_hidden(result, "test_predict_returns_float32"), "float32", "float64")
    _lost(_public(result, "test_predict_tflite_batch"), "float32, not float64")
    assert result.score < result.max_score


def test_batch_of_one_only_loses_points(grade_source):
    """predict_tflite without resizing the input (batch size 1 only) and a quantizing
    saved_model_to_tflite lose their tests, with a hint about resize_tensor_input."""
    source = _mutate(
        REFERENCE.read_text(),
        ("    interpreter.resize_tensor_input(source[\"index\"], list(x.shape))\n", ""),
        ("    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)\n",
         "    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)\n"
         "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"
         "    converter.target_spec.supported_types = [tf.float16]\n"),
    )
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_predict_any_batch_size", "test_predict_returns_float32", "test_predict_matches_keras",
        "test_predict_casts_float64", "test_saved_model_float32", "test_saved_model_matches_keras"}
    _lost(_hidden(result, "test_predict_any_batch_size"), "a batch of several rows", "resize_tensor_input")
    _lost(_hidden(result, "test_saved_model_float32"), "float16")
    assert _public(result, "test_predict_tflite_single_row_float64").passed  # one row still works
    _lost(_public(result, "test_predict_tflite_batch"), "Dimension mismatch")
