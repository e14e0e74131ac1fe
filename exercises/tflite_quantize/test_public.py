"""Public tests for tflite_quantize: the fixture model `mlp`, quantized three ways.

Every flatbuffer you return is opened by the grader in a separate process:
the tensor types stored inside it are read from the file, its size is
compared with the plain float32 conversion of the same model, and it is run
with the LiteRT interpreter on an evaluation set and on probe inputs, where
its outputs must stay as close to the Keras model's as the quantization
allows: it must be a conversion of the model you are given, for every test,
the type tests included. The hidden tests do the same with another model and
hidden data.
"""
import numpy as np
import pytest

from grader.testing import AGREEMENT, build, deviation, fixture_data, probe_inputs, public_reference, weight_share

FIXTURE = "mlp"
SIZE_LIMIT = {"dynamic_range": 0.40, "float16": 0.60, "int8": 0.40}


STORED = public_reference("tflite_quantize")  # the grader's float32 conversion: its size and accuracy


@pytest.fixture(scope="module")
def evaluation_set():
    assert STORED["fixture"] == FIXTURE
    return fixture_data(FIXTURE, *STORED["evaluation"])


@pytest.fixture(scope="module")
def float_reference():
    return STORED["float32"]


@pytest.fixture(scope="module")
def calibration():
    x, _ = fixture_data(FIXTURE, 200, 103)
    return x


@pytest.fixture(scope="module")
def probes(evaluator, batch_cache, calibration):
    """Inputs off the data's clusters, inside the calibration range, and the Keras model's outputs on them."""
    x = probe_inputs(calibration, 300, 108)
    return x, batch_cache(f"public-keras-{FIXTURE}-probes-103-108", lambda: evaluator.recipe("keras.predict", FIXTURE, x))


# Each function is called once; its flatbuffer serves both of its tests.
@pytest.fixture(scope="module")
def dynamic_range(learner):
    return learner.quantize_dynamic_range(build("keras.classifier", FIXTURE))


@pytest.fixture(scope="module")
def float16(learner):
    return learner.quantize_float16(build("keras.classifier", FIXTURE))


@pytest.fixture(scope="module")
def full_int8(learner, calibration):
    return learner.quantize_full_int8(build("keras.classifier", FIXTURE), calibration)


def _inspect(evaluator, content, function):
    assert isinstance(content, (bytes, bytearray)), (
        f"{function} must return the flatbuffer as bytes, not {type(content).__name__}")
    info = evaluator.recipe("tflite.inspect", bytes(content))
    assert info["kind"] != "unreadable", f"{function} did not return a TFLite flatbuffer: {info.get('error')}"
    assert not info.get("reads_variables"), (
        f"{function}'s model reads its weights from variables at run time (VAR_HANDLE / READ_VARIABLE ops), "
        "so the interpreter outputs NaN: the weights were never frozen into it. Convert from the Keras model "
        "(TFLiteConverter.from_keras_model), or from a concrete function without resource variables, so its "
        "weights are folded in as constants")
    return info


def _io(info):
    return [t["dtype"] for t in info["inputs"]], [t["dtype"] for t in info["outputs"]]


@pytest.fixture(scope="module")
def gaps():
    """By function: how far its model's outputs on the probe inputs are from the Keras model's (run once)."""
    return {}


def _is_a_conversion(evaluator, content, kind, function, probes, gaps):
    x, expected = probes
    if function not in gaps:
        gaps[function] = deviation(evaluator.recipe("tflite.run", bytes(content), x), expected)
    gap = gaps[function]
    assert gap <= AGREEMENT[kind], (
        f"{function}'s model is not a conversion of the model it was given: on probe inputs its outputs "
        f"differ from the Keras model's by {gap:.4f} on average, more than {kind} quantization allows "
        f"({AGREEMENT[kind]})")


def _size_and_accuracy(evaluator, content, info, kind, function, float_reference, evaluation_set):
    share = info["size"] / float_reference["size"]
    assert share <= SIZE_LIMIT[kind], (
        f"{function}'s model is {info['size']} bytes, {share:.0%} of the float32 model "
        f"({float_reference['size']} bytes); expected at most {SIZE_LIMIT[kind]:.0%}")
    x, y = evaluation_set
    result = evaluator.recipe("tflite.evaluate", bytes(content), x, y)
    assert result["finite"], f"{function}'s model outputs NaN or infinity: it does not really run"
    drop = float_reference["accuracy"] - result["accuracy"]
    assert drop <= 0.02, (
        f"{function}'s model has an accuracy of {result['accuracy']:.3f}, {drop * 100:.1f} points below the "
        f"float model's {float_reference['accuracy']:.3f} (at most 2 points allowed)")


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Dynamic range quantization': one converter setting stores the weights as int8 and keeps float input "
    "and output.",
    "Set `converter.optimizations = [tf.lite.Optimize.DEFAULT]` and nothing else: no `supported_types`, no "
    "representative data set, no `inference_input_type`.",
    "Convert the `model` you are given with `from_keras_model`: the test also checks that the flatbuffer behaves "
    "like that model.",
)
def test_dynamic_range_types(dynamic_range, evaluator, probes, gaps):
    """quantize_dynamic_range stores int8 weights, float32 input and output"""
    info = _inspect(evaluator, dynamic_range, "quantize_dynamic_range")
    assert weight_share(info, "int8") >= 0.9, (
        f"expected int8 weights, found {info['weights']} (elements per type): set "
        "converter.optimizations = [tf.lite.Optimize.DEFAULT]")
    assert _io(info) == (["float32"], ["float32"]), f"dynamic range keeps float32 input and output, found {_io(info)}"
    # The right types are worth points only in a conversion of the given model, not in any model at all.
    _is_a_conversion(evaluator, dynamic_range, "dynamic_range", "quantize_dynamic_range", probes, gaps)


@pytest.mark.points(2)
@pytest.mark.hints(
    "Dynamic range gives about a quarter of the float32 size and nearly the same accuracy.",
    "Over 40% usually means the weights stayed float32: set `optimizations = [tf.lite.Optimize.DEFAULT]` on the "
    "converter you call `convert()` on.",
    "Dynamic range rarely costs accuracy: if it drops, check that you convert the `model` argument itself, "
    "untouched (no retraining, no new layers).",
)
def test_dynamic_range_size_and_accuracy(dynamic_range, evaluator, float_reference, evaluation_set, probes, gaps):
    """quantize_dynamic_range: at most 40% of the size, accuracy kept"""
    content = dynamic_range
    info = _inspect(evaluator, content, "quantize_dynamic_range")
    _is_a_conversion(evaluator, content, "dynamic_range", "quantize_dynamic_range", probes, gaps)
    _size_and_accuracy(evaluator, content, info, "dynamic_range", "quantize_dynamic_range",
                       float_reference, evaluation_set)


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Float16 quantization': `Optimize.DEFAULT` alone gives int8 weights; float16 needs one more setting.",
    "Both settings go on the same converter: `optimizations` (without it nothing is quantized) and "
    "`target_spec.supported_types` holding `tf.float16` (without it, int8).",
    "Input and output stay float32: set no `inference_input_type`, `inference_output_type` or representative data "
    "set for float16.",
)
def test_float16_types(float16, evaluator, probes, gaps):
    """quantize_float16 stores float16 weights"""
    info = _inspect(evaluator, float16, "quantize_float16")
    assert weight_share(info, "float16") >= 0.9, (
        f"expected float16 weights, found {info['weights']} (elements per type): set "
        "converter.optimizations and converter.target_spec.supported_types = [tf.float16]")
    assert _io(info) == (["float32"], ["float32"]), f"float16 keeps float32 input and output, found {_io(info)}"
    _is_a_conversion(evaluator, float16, "float16", "quantize_float16", probes, gaps)


@pytest.mark.points(2)
@pytest.mark.hints(
    "Float16 halves the weights: about half the float32 size, with virtually the same accuracy.",
    "Over 60% usually means the weights stayed float32: set `optimizations = [tf.lite.Optimize.DEFAULT]` as well "
    "as `supported_types = [tf.float16]`.",
    "Float16 keeps accuracy almost exactly: if it drops, check that you convert the `model` argument itself, "
    "untouched (no retraining, no new layers).",
)
def test_float16_size_and_accuracy(float16, evaluator, float_reference, evaluation_set, probes, gaps):
    """quantize_float16: at most 60% of the size, accuracy kept"""
    content = float16
    info = _inspect(evaluator, content, "quantize_float16")
    _is_a_conversion(evaluator, content, "float16", "quantize_float16", probes, gaps)
    _size_and_accuracy(evaluator, content, info, "float16", "quantize_float16", float_reference, evaluation_set)


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'Full integer quantization': five converter settings together make a full integer model; the bullets "
    "below the code say what each one prevents.",
    "Set `optimizations`, `representative_dataset`, `target_spec.supported_ops = "
    "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8]`, and `inference_input_type` and `inference_output_type` to `tf.int8`.",
    "The generator yields one example per step, a list holding a float32 array of shape `(1, features)`: `yield "
    "[row[np.newaxis, :]]` for each `row` of `samples`.",
)
def test_full_int8_types(full_int8, evaluator, probes, gaps):
    """quantize_full_int8: int8 weights, activations, input and output"""
    info = _inspect(evaluator, full_int8, "quantize_full_int8")
    assert _io(info) == (["int8"], ["int8"]), (
        f"a full integer model takes and returns int8, found input/output {_io(info)}: set "
        "converter.inference_input_type and inference_output_type to tf.int8")
    assert weight_share(info, "int8") >= 0.9, f"expected int8 weights, found {info['weights']}"
    floats = info["internal_activations"].get("float32", 0)
    assert floats == 0, (
        f"{floats} float32 tensors remain inside the model: restrict converter.target_spec.supported_ops "
        "to [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]")
    _is_a_conversion(evaluator, full_int8, "int8", "quantize_full_int8", probes, gaps)


@pytest.mark.points(2)
@pytest.mark.hints(
    "A full integer model is about a quarter of the float32 size and should lose under 2 points; an accuracy "
    "collapse points at calibration.",
    "Calibrate on the `representative_data` you are given (as `samples`, float32), not on random noise or zeros: "
    "the activation ranges come from it.",
    "Let the generator go through all of `samples`, one row per step, each yielded as `[row[np.newaxis, :]]`.",
)
def test_full_int8_size_and_accuracy(full_int8, evaluator, float_reference, evaluation_set, probes, gaps):
    """quantize_full_int8: at most 40% of the size, accuracy kept"""
    content = full_int8
    info = _inspect(evaluator, content, "quantize_full_int8")
    _is_a_conversion(evaluator, content, "int8", "quantize_full_int8", probes, gaps)
    _size_and_accuracy(evaluator, content, info, "int8", "quantize_full_int8", float_reference, evaluation_set)
