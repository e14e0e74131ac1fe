"""Hidden tests for graph_freeze: another fixture model, hidden inputs and input names.

``freeze`` is called once (module fixture). The GraphDef is parsed, imported
and run only in the evaluator, and judged by op types, never by node names
(a frozen graph keeps Identity nodes named ``.../ReadVariableOp``).
Messages never print the hidden inputs, the hidden input name or the
expected outputs, nor a count or name read from the learner's graph other
than the variable op types of the grader's own fixed list.
"""
import numpy as np
import pytest

from grader.testing import LearnerError, build, fixture_data

FIXTURE = "mlp_b"
TOLERANCE = 1e-5
INPUT_NAME = "sensor_readings"  # the reference graph's input, never shown to the learner


@pytest.fixture(scope="module")
def frozen(learner):
    try:
        content = learner.freeze(build("keras.classifier", FIXTURE))
    except LearnerError as exc:
        return None, exc
    return content, None


def _graph(frozen):
    content, error = frozen
    if error is not None:
        hint = ": it is not implemented yet" if error.type_name == "NotImplementedError" else ""
        raise AssertionError(f"freeze raised {error.type_name} on another Keras model{hint}")
    assert isinstance(content, (bytes, bytearray)), "freeze must return the serialized GraphDef as bytes"
    return bytes(content)


@pytest.fixture(scope="module")
def summary(evaluator, frozen):
    content, error = frozen
    if error is not None or not isinstance(content, (bytes, bytearray)):
        return None
    return evaluator.recipe("tflite.graph_summary", bytes(content))


def _summary(frozen, summary):
    _graph(frozen)
    assert summary["parsed"], "freeze did not return a serialized GraphDef (GraphDef.SerializeToString())"
    return summary


@pytest.mark.points(2)
def test_no_variable_ops(frozen, summary):
    """the frozen graph reads no variables"""
    found = _summary(frozen, summary)
    left = sorted(set(found["variable_ops"]) | set(found["function_variable_ops"]))
    assert not left, (
        "the graph still reads variables (variable ops such as VarHandleOp or ReadVariableOp): it is not "
        "frozen; fold the variables into constants with convert_variables_to_constants_v2")
    resources = [p for p in found["placeholders"] if p["dtype"] == "resource"]
    assert not resources, (
        "the graph still has resource placeholders (variable handles): it is not frozen; fold the variables "
        "into constants with convert_variables_to_constants_v2")


@pytest.mark.points(1)
def test_batch_dimension_unknown(frozen, summary):
    """the frozen graph's input has an unknown batch dimension"""
    found = _summary(frozen, summary)
    inputs = [p for p in found["placeholders"] if p["dtype"] == "float32"]
    assert len(inputs) == 1, "expected exactly one float32 input placeholder"
    shape = inputs[0]["shape"]
    assert shape is not None and len(shape) == 2 and shape[0] == -1, (
        "the input placeholder must have shape (None, n_features): trace the function with "
        "tf.TensorSpec([None, n_features], tf.float32), the batch dimension left unknown")


@pytest.mark.points(3)
def test_frozen_graph_matches_keras(frozen, summary, evaluator, batch_cache):
    """the frozen graph, imported and run, gives the Keras model's outputs"""
    content = _graph(frozen)
    _summary(frozen, summary)
    x, _ = fixture_data(FIXTURE, 40, 7301)
    expected = batch_cache(f"hidden-keras-{FIXTURE}-40-7301", lambda: evaluator.recipe("keras.predict", FIXTURE, x))
    names = evaluator.recipe("tflite.graph_io", content)
    assert len(names["inputs"]) == 1, (
        "the graph has more than one placeholder, so it cannot run from its input alone (variables still "
        "read through resource placeholders?)" if names["inputs"] else "the graph has no input placeholder")
    assert len(names["outputs"]) == 1, "expected exactly one output tensor (a tensor no other node reads)"
    for rows in (slice(0, 1), slice(0, 40)):
        try:
            outputs = evaluator.recipe("tflite.run_graph", content, names["inputs"][0], names["outputs"][0], x[rows])
        except LearnerError as exc:
            raise AssertionError(f"the frozen graph could not be imported and run ({exc.type_name})") from None
        what = "a single row" if rows.stop == 1 else "a batch"
        assert outputs.shape == expected[rows].shape, f"the frozen graph gives outputs of the wrong shape for {what}"
        gap = float(np.max(np.abs(outputs - expected[rows])))
        assert gap <= TOLERANCE, (
            f"the frozen graph's outputs differ from the Keras model's by more than {TOLERANCE:g} on hidden "
            f"inputs ({what}): freeze the inference function, model(x, training=False)")


def _check_names(names, function="frozen_io_names"):
    assert isinstance(names, dict) and set(names) >= {"inputs", "outputs"}, (
        f"{function} must return a dict with the keys 'inputs' and 'outputs'")
    for key in ("inputs", "outputs"):
        assert isinstance(names[key], list) and all(isinstance(n, str) for n in names[key]), (
            f"{function}()[{key!r}] must be a list of tensor names (strings)")
        missing = [n for n in names[key] if ":" not in n]
        assert not missing, (
            f"the {key} are not tensor names: a tensor name ends with its output index, like 'x:0' "
            "('x' alone names the operation, not its tensor)")


@pytest.mark.points(2)
def test_io_names_of_another_graph(learner, evaluator, batch_cache):
    """frozen_io_names reads the inputs and outputs of a frozen graph"""
    reference = batch_cache(f"reference-frozen-{FIXTURE}-{INPUT_NAME}",
                            lambda: evaluator.recipe("conversion.freeze_reference", FIXTURE, INPUT_NAME))
    try:
        names = learner.frozen_io_names(reference)
    except LearnerError as exc:
        raise AssertionError(f"frozen_io_names raised {exc.type_name} on a frozen graph") from None
    _check_names(names)
    assert names["inputs"] == [f"{INPUT_NAME}:0"], (
        "frozen_io_names did not find the input of a frozen graph whose placeholder is not called 'x': "
        "the inputs are the Placeholder nodes, whatever their name")
    assert names["outputs"] == ["Identity:0"], (
        "frozen_io_names did not find the single output of a frozen graph: the output is the tensor of the "
        "node no other node reads (NoOp and Const left out)")


@pytest.mark.points(1)
def test_io_names_resolve_in_own_graph(learner, evaluator, frozen):
    """the names frozen_io_names gives for your own graph resolve"""
    content = _graph(frozen)
    try:
        names = learner.frozen_io_names(content)
    except LearnerError as exc:
        raise AssertionError(f"frozen_io_names raised {exc.type_name} on your frozen graph") from None
    _check_names(names)
    assert len(names["inputs"]) == 1 and len(names["outputs"]) == 1, (
        "for a graph made by freeze, expected one input and one output tensor name")
    problems = evaluator.recipe("tflite.resolve_names", content, names["inputs"] + names["outputs"])
    assert not any(problems.values()), "the names do not name tensors of your frozen graph"
