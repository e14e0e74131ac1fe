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
@pytest.mark.hints(
    "README 'Converting a Keras model': the plain conversion sets no `optimizations` and no `target_spec`.",
    "Build the converter with `tf.lite.TFLiteConverter.from_keras_model(model)` and return `converter.convert()`; "
    "any `Optimize` setting quantizes the weights.",
    "Convert the Keras model directly: a detour through `tf.saved_model.save` and `from_saved_model` can leave "
    "variable reads in the flatbuffer.",
)
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
@pytest.mark.hints(
    "A plain conversion computes the Keras model's function to float rounding (1e-5); a larger gap means it is "
    "not that plain conversion.",
    "Convert the `model` you are given, not a rebuilt or retrained copy, with no optimizations: quantization "
    "moves outputs far more than 1e-5.",
)
def test_to_tflite_matches_keras(learner, evaluator, inputs, keras_outputs):
    """to_tflite's flatbuffer gives the Keras model's outputs"""
    content = _flatbuffer(learner.to_tflite(build("keras.classifier", FIXTURE)), "to_tflite")
    outputs = _run(evaluator, content, inputs, "to_tflite")
    assert outputs.shape == keras_outputs.shape, f"expected outputs of shape {keras_outputs.shape}, got {outputs.shape}"
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, f"the flatbuffer's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'Converting a SavedModel': the converter has a constructor that reads a SavedModel directory.",
    "Use `tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)`; it converts the `serving_default` "
    "signature, so you need not load the directory yourself.",
    "Then return `converter.convert()` with no optimizations, as in `to_tflite`.",
)
def test_saved_model_to_tflite_matches_keras(learner, evaluator, inputs, keras_outputs):
    """saved_model_to_tflite converts a SavedModel to the same function"""
    path = learner.recipe("keras.saved_model", FIXTURE, "public_saved_model")
    content = _flatbuffer(learner.saved_model_to_tflite(path), "saved_model_to_tflite")
    outputs = _run(evaluator, content, inputs, "saved_model_to_tflite")
    assert outputs.shape == keras_outputs.shape, f"expected outputs of shape {keras_outputs.shape}, got {outputs.shape}"
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, f"the flatbuffer's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'Running a flatbuffer', trap 1: the converted input has a batch of 1, and this test sends 16 rows.",
    'Call `interpreter.resize_tensor_input(source["index"], x.shape)` before `allocate_tensors()`, then set the '
    "whole batch at once.",
    'After `invoke()`, return `get_tensor(target["index"])` as a float32 numpy array of shape `(len(x), '
    "n_outputs)`.",
)
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
@pytest.mark.hints(
    "README 'Running a flatbuffer', trap 2: the interpreter refuses float64 input, numpy's default dtype.",
    "Cast first with `np.asarray(x, np.float32)` (the starter does) and resize the input to `x.shape` even for a "
    "single row.",
    "Keep the batch dimension: one row gives shape `(1, n_outputs)`, so do not squeeze or index the output, and "
    "return it as float32.",
)
def test_predict_tflite_single_row_float64(learner, inputs, keras_outputs, reference_model):
    """predict_tflite accepts one float64 row"""
    outputs = learner.predict_tflite(reference_model, inputs[:1].astype(np.float64))
    assert isinstance(outputs, np.ndarray) and outputs.shape == keras_outputs[:1].shape, (
        f"for one row, expected outputs of shape {keras_outputs[:1].shape}, got "
        f"{getattr(outputs, 'shape', type(outputs).__name__)}")
    assert outputs.dtype == np.float32, f"predict_tflite must return float32, not {outputs.dtype}"
    gap = float(np.max(np.abs(outputs - keras_outputs[:1])))
    assert gap <= TOLERANCE, f"predict_tflite's outputs differ from the Keras model's by up to {gap:.2e}"
