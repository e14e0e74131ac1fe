"""Hostile submissions to the mobile exercises: each earns no more than its honest part.

Three classes of attack, each a real submission graded end to end (sandbox,
evaluator, public and hidden tests):

- **stand-in models**: functions that ignore the model they are given and
  return a small classifier trained on the public data recipe, converted
  honestly. Nothing of the given model is in them, so they keep only their
  honest part (converter settings that give the right tensor types; the
  budget search raising when no variant qualifies);
- **lying tensor types**: a sparse ``[1, 10**8]`` constant no operator reads,
  typed int8 or float16, added to a float32 or dynamic-range flatbuffer so
  that counting every tensor's shape would read it as the kind asked for;
- **leaks into hidden feedback**: a size ratio tuned to spell a hidden value
  (a weight of the hidden model, a row of the hidden calibration data), and
  exception names and messages carrying the hidden budget and floor. No
  number of a hidden test's output may be other than the test author's.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import hidden_failures, hidden_test, mutate

from grader.judging.evaluators import tflite
from grader.sandbox.recipes import keras as fixtures

ROOT = Path(__file__).resolve().parents[1]
QUANTIZE = (ROOT / "solutions" / "tflite_quantize" / "quantize.py").read_text()
BUDGET = (ROOT / "solutions" / "mobile_budget" / "optimize.py").read_text()


# A classifier trained on the data recipe the grader ships, chosen by the given model's input and output
# sizes (and, when calibration data is at hand, by whether a feature sits near 1000 hPa): the given model's
# weights are never read.
STAND_IN = '''
import keras as _keras
from grader.sandbox.recipes.keras import DATASETS as _DATASETS, make_data as _make_data

_STAND_INS = {}


def _stand_in(model, calibration=None):
    features, classes = model.input_shape[-1], model.output_shape[-1]
    pressure = calibration is not None and float(np.max(np.mean(calibration, axis=0))) > 500
    name = next(k for k, d in _DATASETS.items()
                if (d.n_features, d.n_classes, d.pressure is not None) == (features, classes, pressure))
    if name not in _STAND_INS:
        x, y = _make_data(name, 2000, 99)
        mean, std = x.mean(axis=0), x.std(axis=0)
        _keras.utils.set_random_seed(4)
        small = _keras.Sequential([_keras.Input((features,)), _keras.layers.Dense(32, activation="relu"),
                                   _keras.layers.Dense(classes, activation="softmax")])
        small.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        small.fit((x - mean) / std, y, epochs=8, batch_size=64, verbose=0)
        w = small.get_weights()
        w[1] = w[1] - (mean / std) @ w[0]
        w[0] = w[0] / std[:, None]
        small.set_weights(w)
        _STAND_INS[name] = small
    return _STAND_INS[name]
'''

# Adds a constant no operator reads (or only a dead DENSIFY does), stored sparse: 8 bytes in the file
# for 10**8 claimed elements of the type asked for.
DECOY = '''
def _with_decoy(content, type_name, dead_op=False):
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytes(content), 0)
    graph = model.subgraphs[0]
    buffer = schema.BufferT()
    buffer.data = np.zeros(8, dtype=np.uint8)
    model.buffers.append(buffer)
    dense, csr = schema.DimensionMetadataT(), schema.DimensionMetadataT()
    dense.format, dense.denseSize = schema.DimensionType.DENSE, 1
    csr.format = schema.DimensionType.SPARSE_CSR
    csr.arraySegmentsType = csr.arrayIndicesType = schema.SparseIndexVector.Int32Vector
    csr.arraySegments, csr.arrayIndices = schema.Int32VectorT(), schema.Int32VectorT()
    csr.arraySegments.values, csr.arrayIndices.values = [0, 8], list(range(8))
    sparsity = schema.SparsityParametersT()
    sparsity.traversalOrder, sparsity.dimMetadata = [0, 1], [dense, csr]
    decoy = schema.TensorT()
    decoy.shape, decoy.type = [1, 10**8], getattr(schema.TensorType, type_name)
    decoy.buffer, decoy.name, decoy.sparsity = len(model.buffers) - 1, b"decoy", sparsity
    graph.tensors.append(decoy)
    if dead_op:
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DENSIFY
        model.operatorCodes.append(code)
        result = schema.TensorT()
        result.shape, result.type, result.name = [1, 10**8], decoy.type, b"decoy_dense"
        graph.tensors.append(result)
        operator = schema.OperatorT()
        operator.opcodeIndex = len(model.operatorCodes) - 1
        operator.inputs, operator.outputs = [len(graph.tensors) - 2], [len(graph.tensors) - 1]
        graph.operators.insert(0, operator)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
'''

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WRITTEN = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _hidden_outputs(result) -> list[str]:
    return [t.output for t in result.tests if t.visibility == "hidden"]


def assert_only_author_numbers(result, exercise: str) -> None:
    """Every number in every hidden test's output is written in that exercise's hidden test source
    (or is one of its constants as a message formats it)."""
    source = (ROOT / "solutions" / exercise / "test_hidden.py").read_text()
    authored = set(_NUMBER.findall(source))
    for written in _WRITTEN.findall(source):
        # The author's constants as messages format them: 1e-5 -> "1e-05", 0.40 -> "40%", 0.02 -> "2 points".
        authored |= set(_NUMBER.findall(f"{float(written):g}"))
        if "." in written and float(written) < 1:
            authored.add(f"{float(written) * 100:.0f}")
    for output in _hidden_outputs(result):
        foreign = set(_NUMBER.findall(output)) - authored
        assert not foreign, f"hidden feedback holds numbers the test author did not write: {foreign}: {output!r}"


def _passed(result) -> set[str]:
    return {t.nodeid.split("::")[-1] if t.visibility == "visible" else t.nodeid.split("::")[1]
            for t in result.tests if t.passed}


# ----------------------------------------------------------------------------- stand-in models

def test_stand_in_quantized_models_earn_nothing(grade_source):
    """tflite_quantize with every function converting a stand-in (a small model trained on the shipped data
    recipe, honestly quantized three ways) instead of the given model: every hidden test, and every public
    test that runs the model says it is not a conversion of the model given, and the tensor-type checks
    fail too: 0 of 26 points (it had all 26, and later the 4 of the type checks, which looked at types alone)."""
    source = "import numpy as np\n" + STAND_IN + mutate(
        QUANTIZE,
        ("def quantize_dynamic_range(model) -> bytes:\n",
         "def quantize_dynamic_range(model) -> bytes:\n    model = _stand_in(model)\n"),
        ("def quantize_float16(model) -> bytes:\n", "def quantize_float16(model) -> bytes:\n    model = _stand_in(model)\n"),
        ("def quantize_full_int8(model, representative_data: np.ndarray) -> bytes:\n",
         "def quantize_full_int8(model, representative_data: np.ndarray) -> bytes:\n    model = _stand_in(model)\n"),
    )
    result = grade_source("tflite_quantize", source)
    assert result.error is None and result.refused is None, result.error or result.refused
    hidden = [t for t in result.tests if t.visibility == "hidden"]
    assert len(hidden) == 10 and not any(t.passed for t in hidden)
    for test in hidden:
        assert "does not compute the function of the model it was given" in test.output, test
    for name in ("test_dynamic_range_size_and_accuracy", "test_float16_size_and_accuracy",
                 "test_full_int8_size_and_accuracy"):
        assert "is not a conversion of the model it was given" in result.test(f"test_public.py::{name}").output
    # The type checks fail too: on the stand-in's types (a model this small keeps float weights) or, where
    # those are right, because it is not a conversion of the given model.
    assert not _passed(result) and result.score == 0, [(t.name, t.score) for t in result.tests if t.passed]


def test_stand_in_budget_model_earns_only_the_infeasible_case(grade_source):
    """mobile_budget running the reference's search on a stand-in instead of the given model: the returned
    models fit the budgets but are not conversions of the model given, so only the infeasible case (the
    honest part: it raises when nothing qualifies) earns points."""
    source = "import numpy as np\n" + STAND_IN + mutate(
        BUDGET,
        ("    qualifying = []\n", "    model = _stand_in(model, calibration_data)\n    qualifying = []\n"))
    result = grade_source("mobile_budget", source)
    assert result.error is None and result.refused is None, result.error or result.refused
    assert hidden_failures(result) >= {"test_generous_budget_fits", "test_generous_budget_smallest",
                                       "test_quantization_that_hurts_is_rejected",
                                       "test_quantization_that_hurts_smallest"}
    assert _passed(result) <= {"test_infeasible_raises", "test_infeasible_budget_raises"}, _passed(result)
    for name in ("test_generous_budget_fits", "test_generous_budget_smallest"):
        assert "does not compute the function of the model it was given" in hidden_test(result, name).output


# ----------------------------------------------------------------------------- lying tensor types

@pytest.mark.parametrize("dead_op", [False, True], ids=["unread constant", "read by a dead operator"])
@pytest.mark.parametrize("decoy", ["INT8", "FLOAT16"])
def test_decoy_constants_do_not_change_the_kind(decoy, dead_op):
    """A float32 flatbuffer with a sparse [1, 10**8] int8 or float16 constant that no live operator reads
    still reads as float32 with its real weight count, and still runs: only what operators use is counted."""
    namespace = {"np": np}
    exec(DECOY, namespace)  # noqa: S102 - the test's own builder, shared with the hostile submission
    stored = fixtures.fixture_file(fixtures.public_reference("tflite_convert")["float32_flatbuffer"])
    crafted = namespace["_with_decoy"](stored, decoy, dead_op)
    honest, found = tflite.inspect(None, stored), tflite.inspect(None, crafted)
    assert found["kind"] == "float32" and found["weights"] == honest["weights"], found
    assert found["dead_ops"] == int(dead_op)
    x, _ = fixtures.fixture_data("mlp", 8, 3)
    assert np.array_equal(tflite.predict(crafted, x), tflite.predict(stored, x))  # the decoy is harmless


def test_lying_tensor_types_earn_nothing_more(grade_source):
    """quantize_dynamic_range returning a float32 model and quantize_float16 a dynamic-range one, each with
    a decoy constant of the type asked for, lose exactly the tests the same models lose without the decoy
    (see test_exercise_mobile_quantize.py), with the messages that name the real kind."""
    source = "import numpy as np\n" + DECOY + mutate(
        QUANTIZE,
        ("def quantize_dynamic_range(model) -> bytes:\n    return _optimizing_converter(model).convert()",
         "def quantize_dynamic_range(model) -> bytes:\n"
         "    return _with_decoy(tf.lite.TFLiteConverter.from_keras_model(model).convert(), 'INT8')"),
        ("    converter.target_spec.supported_types = [tf.float16]\n    return converter.convert()",
         "    return _with_decoy(converter.convert(), 'FLOAT16')"),
    )
    result = grade_source("tflite_quantize", source)
    assert hidden_failures(result) == {"test_dynamic_range_weights", "test_dynamic_range_size",
                                       "test_float16_weights"}
    assert "unquantized float32 model" in hidden_test(result, "test_dynamic_range_weights").output
    assert "stores int8 weights" in hidden_test(result, "test_float16_weights").output


# ----------------------------------------------------------------------------- leaks into hidden feedback

def _share(secret: float, floor: float) -> float:
    """The size share a leaking submission aims at: the limit plus a hidden value, in hundredths."""
    return floor + (int(abs(secret) * 1000) % 40) / 100


LEAK = '''

def _padded(content, float_model, share):
    """``content`` padded with zeros (ignored by the interpreter) to ``share`` of the float32 model's size."""
    return content + bytes(max(0, int(share * len(float_model)) - len(content)))


def _leak_share(secret, floor):
    return floor + (int(abs(float(secret)) * 1000) % 40) / 100
'''


def test_tunable_size_ratio_cannot_carry_a_hidden_value(grade_source):
    """quantize_float16 and quantize_full_int8 padded so that their size over the float32 model's spells a
    weight of the hidden model and a value of the hidden calibration data: they lose their size tests, and
    no hidden message holds the tuned share or any number the test author did not write."""
    source = "import numpy as np\n" + mutate(
        QUANTIZE,
        ("    converter.target_spec.supported_types = [tf.float16]\n    return converter.convert()",
         "    converter.target_spec.supported_types = [tf.float16]\n"
         "    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()\n"
         "    return _padded(converter.convert(), float_model, _leak_share(model.get_weights()[0][0, 0], 0.61))"),
        ("    converter.inference_output_type = tf.int8\n    return converter.convert()",
         "    converter.inference_output_type = tf.int8\n"
         "    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()\n"
         "    return _padded(converter.convert(), float_model, _leak_share(representative_data[0, 0], 0.41))"),
    ) + LEAK
    result = grade_source("tflite_quantize", source)
    assert hidden_failures(result) == {"test_float16_size", "test_full_int8_size"}
    with np.load(fixtures.weights_path("mlp_b")) as stored:
        weight = float(stored["w0"][0, 0])
    calibration, _ = fixtures.fixture_data("mlp_b", 150, 7201)  # the hidden test's calibration data
    spelled = {f"{_share(weight, 0.61):.0%}", f"{_share(calibration[0, 0], 0.41):.0%}"}
    for output in _hidden_outputs(result):
        assert not [s for s in spelled if s in output], output
    assert_only_author_numbers(result, "tflite_quantize")


def test_exception_names_and_messages_cannot_carry_hidden_budgets(grade_source):
    """optimize_for_device raising, in every scenario, a ValueError subclass whose name and message spell
    the hidden budget, floor and first validation value: hidden feedback names only the built-in ValueError
    and holds none of those numbers; the submission earns only what always raising earns."""
    source = '''
import numpy as np


def optimize_for_device(model, calibration_data, max_bytes, min_accuracy, x_val, y_val):
    name = f"Budget_{int(max_bytes)}_{int(min_accuracy * 10000)}"
    raise type(name, (ValueError,), {})(f"infeasible {max_bytes} {min_accuracy:.4f} {float(x_val[0, 0]):.4f}")
'''
    result = grade_source("mobile_budget", source)
    assert _passed(result) <= {"test_infeasible_raises", "test_infeasible_budget_raises"}, _passed(result)
    for output in _hidden_outputs(result):
        assert "Budget_" not in output and "infeasible " not in output, output
    assert_only_author_numbers(result, "mobile_budget")


def test_tuned_output_shape_and_dtype_cannot_carry_hidden_inputs(grade_source):
    """predict_tflite, which receives hidden inputs, returning arrays whose width and dtype are chosen from
    them: it loses the predict tests, and no hidden message holds a number the test author did not write
    (the learner's shape and dtype never reach it)."""
    source = mutate((ROOT / "solutions" / "tflite_convert" / "convert.py").read_text(), (
        "    return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)",
        "    secret = int(abs(float(x[0, 0])) * 1000)\n"
        "    dtype = (np.float16, np.int32)[secret % 2]\n"
        "    return np.zeros((len(x), 7 + secret % 90), dtype=dtype)"))
    result = grade_source("tflite_convert", source)
    assert hidden_failures(result) == {"test_predict_any_batch_size", "test_predict_returns_float32",
                                       "test_predict_matches_keras", "test_predict_casts_float64"}
    assert_only_author_numbers(result, "tflite_convert")
    x, _ = fixtures.fixture_data("mlp_b", 96, 7103)  # the hidden test's inputs
    chosen = ("float16", "int32")[int(abs(float(x[0, 0])) * 1000) % 2]
    assert not [o for o in _hidden_outputs(result) if chosen in o], _hidden_outputs(result)
