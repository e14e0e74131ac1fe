"""Hidden tests for tflite_convert: another fixture model, hidden inputs.

Each learner function is called once per module (module fixtures); the
learner's flatbuffers are inspected and run only in the evaluator; a
float32 flatbuffer earns its points only when it computes the given model's
function on hidden inputs (a stand-in trained on the data does not). Failure
messages are fixed sentences in the course's terms; they never print inputs,
outputs, anything read from the learner's artifacts or results (types, shapes,
numbers) or the learner's own exception messages (those may echo inputs).
"""
import numpy as np
import pytest

from grader.testing import LearnerError, build, fixture_data, weight_share

FIXTURE = "mlp_b"
TOLERANCE = 1e-5
BATCH_SIZES = (1, 5, 33)


@pytest.fixture(scope="module")
def inputs():
    x, _ = fixture_data(FIXTURE, 96, 7103)
    return x


@pytest.fixture(scope="module")
def keras_outputs(evaluator, batch_cache, inputs):
    return batch_cache(f"hidden-keras-{FIXTURE}-96-7103", lambda: evaluator.recipe("keras.predict", FIXTURE, inputs))


@pytest.fixture(scope="module")
def reference_model(evaluator, batch_cache):
    return batch_cache(f"reference-{FIXTURE}-float32", lambda: evaluator.recipe("conversion.reference", FIXTURE, "float32"))


def _attempt(function, *args):
    try:
        return function(*args), None
    except LearnerError as exc:
        return None, exc


@pytest.fixture(scope="module")
def from_keras(learner):
    return _attempt(learner.to_tflite, build("keras.classifier", FIXTURE))


@pytest.fixture(scope="module")
def from_saved_model(learner):
    path = learner.recipe("keras.saved_model", FIXTURE, "hidden_saved_model")
    return _attempt(learner.saved_model_to_tflite, path)


def _flatbuffer(outcome, function):
    value, error = outcome
    if error is not None:
        raise AssertionError(f"{function} raised {error.type_name} on another Keras model")
    assert isinstance(value, (bytes, bytearray)), f"{function} must return the flatbuffer as bytes"
    return bytes(value)


def _inspect(evaluator, content, function):
    info = evaluator.recipe("tflite.inspect", content)
    assert info["kind"] != "unreadable", f"{function} did not return a readable TFLite flatbuffer"
    assert not info.get("reads_variables"), f"{function}'s model " + (
        "reads its weights from variables at run time (VAR_HANDLE / READ_VARIABLE ops), so the interpreter "
        "outputs NaN: the weights were never frozen into it. Convert from the Keras model "
        "(TFLiteConverter.from_keras_model), or from a concrete function without resource variables, so its "
        "weights are folded in as constants")
    return info


def _matches(evaluator, content, inputs, keras_outputs, function):
    try:
        outputs = evaluator.recipe("tflite.run", content, inputs)
    except LearnerError as exc:
        raise AssertionError(f"the LiteRT interpreter could not run the flatbuffer from {function} "
                             f"({exc.type_name})") from None
    assert outputs.shape == keras_outputs.shape, (
        f"the flatbuffer from {function} gives outputs of the wrong shape for a batch of hidden inputs")
    assert np.all(np.isfinite(outputs)), (
        f"the flatbuffer from {function} outputs NaN or infinity on hidden inputs: it does not really run")
    gap = float(np.max(np.abs(outputs - keras_outputs)))
    assert gap <= TOLERANCE, (
        f"the flatbuffer from {function} does not compute the Keras model's function: outputs differ "
        f"by more than {TOLERANCE:g} on hidden inputs (was it optimized or quantized?)")


def _stored_as(info) -> str:
    """How the weights are stored, in the course's fixed words (never a type name read from the artifact)."""
    for dtype in ("int8", "float16"):
        if weight_share(info, dtype) >= 0.5:
            return dtype
    return "something other than float32"


def _float32_only(info, function):
    assert info["kind"] == "float32", (
        f"{function} must make a plain float32 model, no optimizations: its weights are stored as "
        f"{_stored_as(info)} (leave converter.optimizations unset)")


@pytest.mark.points(1)
def test_to_tflite_float32(from_keras, evaluator, inputs, keras_outputs):
    """to_tflite keeps every weight as float32"""
    content = _flatbuffer(from_keras, "to_tflite")
    _float32_only(_inspect(evaluator, content, "to_tflite"), "to_tflite")
    _matches(evaluator, content, inputs, keras_outputs, "to_tflite")  # a float32 model of *this* model


@pytest.mark.points(2)
def test_to_tflite_matches_keras(from_keras, evaluator, inputs, keras_outputs):
    """to_tflite reproduces the Keras model on hidden inputs"""
    content = _flatbuffer(from_keras, "to_tflite")
    _matches(evaluator, content, inputs, keras_outputs, "to_tflite")


@pytest.mark.points(1)
def test_saved_model_float32(from_saved_model, evaluator, inputs, keras_outputs):
    """saved_model_to_tflite keeps every weight as float32"""
    content = _flatbuffer(from_saved_model, "saved_model_to_tflite")
    _float32_only(_inspect(evaluator, content, "saved_model_to_tflite"), "saved_model_to_tflite")
    _matches(evaluator, content, inputs, keras_outputs, "saved_model_to_tflite")


@pytest.mark.points(2)
def test_saved_model_matches_keras(from_saved_model, evaluator, inputs, keras_outputs):
    """saved_model_to_tflite reproduces the Keras model on hidden inputs"""
    content = _flatbuffer(from_saved_model, "saved_model_to_tflite")
    _matches(evaluator, content, inputs, keras_outputs, "saved_model_to_tflite")


def _predict(learner, model, x, what):
    try:
        return learner.predict_tflite(model, x)
    except LearnerError as exc:
        hint = ""
        if exc.type_name == "NotImplementedError":
            hint = ": it is not implemented yet"
        elif len(x) > 1 and "dimension" in exc.message.lower():
            hint = (": the input tensor holds one row until you resize it to the batch with "
                    "interpreter.resize_tensor_input(...) before allocate_tensors()")
        elif "FLOAT64" in exc.message:
            hint = ": the interpreter refuses float64, cast the input to float32"
        raise AssertionError(f"predict_tflite raised {exc.type_name} on {what}{hint}") from None


@pytest.mark.points(2)
def test_predict_any_batch_size(learner, reference_model, inputs, keras_outputs):
    """predict_tflite handles batches of any size"""
    for n in BATCH_SIZES:
        what = "a single row" if n == 1 else "a batch of several rows"
        outputs = _predict(learner, reference_model, inputs[:n], what)
        assert isinstance(outputs, np.ndarray), "predict_tflite must return a numpy array"
        assert outputs.shape == keras_outputs[:n].shape, (
            f"on {what}, predict_tflite must return one row of outputs per input row, shape (len(x), n_outputs)"
            + ("; it returned fewer rows than the batch has" if n > 1 and outputs.shape[:1] != (n,) else ""))


@pytest.mark.points(1)
def test_predict_returns_float32(learner, reference_model, inputs):
    """predict_tflite returns float32"""
    outputs = _predict(learner, reference_model, inputs[:5], "a batch of several rows")
    # The learner's dtype never reaches the message (a structured dtype can spell anything): fixed words only.
    wrong = "float64" if isinstance(outputs, np.ndarray) and outputs.dtype == np.float64 else "another type"
    assert isinstance(outputs, np.ndarray) and outputs.dtype == np.float32, (
        f"predict_tflite must return float32 outputs, not {wrong}")


@pytest.mark.points(2)
def test_predict_matches_keras(learner, reference_model, inputs, keras_outputs):
    """predict_tflite's outputs are the model's outputs"""
    outputs = _predict(learner, reference_model, inputs, "a batch of several rows")
    assert isinstance(outputs, np.ndarray) and outputs.shape == keras_outputs.shape, (
        "predict_tflite must return an array of shape (len(x), n_outputs)")
    gap = float(np.max(np.abs(np.asarray(outputs, dtype=np.float64) - keras_outputs)))
    assert gap <= TOLERANCE, (
        f"predict_tflite's outputs differ from the model's by more than {TOLERANCE:g} on hidden inputs: "
        "return the output tensor of the invoked interpreter, unchanged")


@pytest.mark.points(1)
def test_predict_casts_float64(learner, reference_model, inputs, keras_outputs):
    """predict_tflite casts float64 input to float32"""
    outputs = _predict(learner, reference_model, inputs[:5].astype(np.float64), "a float64 batch")
    assert isinstance(outputs, np.ndarray) and outputs.shape == keras_outputs[:5].shape, (
        "on a float64 batch, predict_tflite must return an array of shape (len(x), n_outputs)")
    gap = float(np.max(np.abs(np.asarray(outputs, dtype=np.float64) - keras_outputs[:5])))
    assert gap <= TOLERANCE, "on a float64 batch, predict_tflite's outputs are not the model's outputs"
