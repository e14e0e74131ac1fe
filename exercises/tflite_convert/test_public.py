"""Public tests for tflite_convert: the fixture model `mlp` converted and run.

Your flatbuffers are run by the grader's own LiteRT interpreter in a
separate process (the `evaluator`) and compared with the Keras model's
outputs. The hidden tests do the same with another model and hidden inputs.
"""
import numpy as np
import pytest

from grader.testing import TFLITE_KINDS, LearnerError, build, fixture_data, fixture_file, public_reference

FIXTURE = "mlp"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def inputs():
    x, _ = fixture_data(FIXTURE, 16, 101)
    return x


@pytest.fixture(scope="module")
def keras_outputs(evaluator, batch_cache, inputs):
    return batch_cache(f"public-keras-{FIXTURE}-16-101",
                       lambda: evaluator.recipe("keras.predict", FIXTURE, inputs))


@pytest.fixture(scope="module")
def reference_model():
    """The grader's float32 conversion of the fixture, stored with the course (a flatbuffer, as bytes)."""
    stored = public_reference("tflite_convert")
    assert stored["fixture"] == FIXTURE
    return fixture_file(stored["float32_flatbuffer"])


def _flatbuffer(value, function):
    assert isinstance(value, (bytes, bytearray)), (
        f"{function} must return the flatbuffer as bytes, not {type(value).__name__}")
    return bytes(value)


def _run(evaluator, content, x, function):
    try:
        return evaluator.recipe("tflite.run", content, x)
    except LearnerError as exc:
        raise AssertionError(f"the LiteRT interpreter could not run the flatbuffer from {function}: "
                             f"{exc.type_name}: {exc.message}") from None


@pytest.mark.points(1)
def test_to_tflite_is_float32(learner, evaluator):
    """to_tflite returns a float32 flatbuffer, not quantized"""
    content = _flatbuffer(learner.to_tflite(build("keras.classifier", FIXTURE)), "to_tflite")
    info = evaluator.recipe("tflite.inspect", content)
    assert info["kind"] != "unreadable", f"to_tflite did not return a TFLite flatbuffer: {info.get('error')}"
    assert not info.get("reads_variables"), "to_tflite's model " + (
        "reads its weights from variables at run time (VAR_HANDLE / READ_VARIABLE ops), so the interpreter "
        "outputs NaN: the weights were never frozen into it. Convert from the Keras model "
        "(TFLiteConverter.from_keras_model), or from a concrete function without resource variables, so its "
        "weights are folded in as constants")
    assert info["kind"] == "float32", (
        f"to_tflite must not optimize: expected every weight as float32, found weights {info['weights']} "
        f"(a model of kind {info['kind']!r}; the kinds are {', '.join(TFLITE_KINDS)})")


@pytest.mark.points(2)
def test_to_tflite_matches_keras(learner, evaluator, inputs, keras_outputs):
    """to_tflite's flatbuffer gives the Keras model's outputs"""
    content = _flatbuffer(learner.to_tflite(build("keras.classifier", FIXTURE)), "to_tflite")
    outputs = _run(evaluator, content, inputs, "to_tflite")
    assert outputs.shape == keras_outputs.shape, f"expected outputs of shape {keras_outputs.shape}, got {outputs.shape}"
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, f"the flatbuffer's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(2)
def test_saved_model_to_tflite_matches_keras(learner, evaluator, inputs, keras_outputs):
    """saved_model_to_tflite converts a SavedModel to the same function"""
    path = learner.recipe("keras.saved_model", FIXTURE, "public_saved_model")
    content = _flatbuffer(learner.saved_model_to_tflite(path), "saved_model_to_tflite")
    outputs = _run(evaluator, content, inputs, "saved_model_to_tflite")
    assert outputs.shape == keras_outputs.shape, f"expected outputs of shape {keras_outputs.shape}, got {outputs.shape}"
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, f"the flatbuffer's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(2)
def test_predict_tflite_batch(learner, inputs, keras_outputs, reference_model):
    """predict_tflite runs a batch of 16 and returns float32 outputs"""
    outputs = learner.predict_tflite(reference_model, inputs)
    assert isinstance(outputs, np.ndarray), f"predict_tflite must return a numpy array, not {type(outputs).__name__}"
    assert outputs.shape == keras_outputs.shape, (
        f"for a batch of 16 rows, expected outputs of shape {keras_outputs.shape}, got {outputs.shape}: "
        "resize the input tensor to the batch before allocating")
    assert outputs.dtype == np.float32, f"predict_tflite must return float32, not {outputs.dtype}"
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, f"predict_tflite's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(1)
def test_predict_tflite_single_row_float64(learner, inputs, keras_outputs, reference_model):
    """predict_tflite accepts one float64 row"""
    outputs = learner.predict_tflite(reference_model, inputs[:1].astype(np.float64))
    assert isinstance(outputs, np.ndarray) and outputs.shape == keras_outputs[:1].shape, (
        f"for one row, expected outputs of shape {keras_outputs[:1].shape}, got "
        f"{getattr(outputs, 'shape', type(outputs).__name__)}")
    assert outputs.dtype == np.float32, f"predict_tflite must return float32, not {outputs.dtype}"
    gap = float(np.max(np.abs(outputs - keras_outputs[:1])))
    assert gap <= TOLERANCE, f"predict_tflite's outputs differ from the Keras model's by up to {gap:.2e}"
