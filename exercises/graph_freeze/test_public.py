"""Public tests for graph_freeze: the fixture model `mlp`, frozen and run.

Your GraphDef is parsed, imported and run by the grader in a separate
process (the `evaluator`); variable ops are recognised by their op type.
The hidden tests do the same with another model and hidden inputs.
"""
import numpy as np
import pytest

from grader.testing import LearnerError, build, fixture_data, fixture_file, public_reference

FIXTURE = "mlp"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def frozen(learner):
    content = learner.freeze(build("keras.classifier", FIXTURE))
    assert isinstance(content, (bytes, bytearray)), (
        f"freeze must return the serialized GraphDef as bytes, not {type(content).__name__}")
    return bytes(content)


@pytest.fixture(scope="module")
def summary(evaluator, frozen):
    found = evaluator.recipe("tflite.graph_summary", frozen)
    assert found["parsed"], f"freeze did not return a serialized GraphDef: {found['error']}"
    return found


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'TensorFlow 2: concrete functions': a traced concrete function still reads variables until it is "
    "frozen.",
    "Pass the concrete function to `convert_variables_to_constants_v2` and serialize the graph of the function it "
    "returns, not `concrete.graph`.",
    "`frozen = convert_variables_to_constants_v2(concrete)`, then return "
    "`frozen.graph.as_graph_def().SerializeToString()`.",
)
def test_no_variable_ops(summary):
    """freeze leaves no variable op in the graph"""
    left = summary["variable_ops"] + summary["function_variable_ops"]
    assert not left, (
        f"the graph still reads variables (op types {', '.join(left)}): fold them into constants with "
        "convert_variables_to_constants_v2")


@pytest.mark.points(2)
@pytest.mark.hints(
    "The frozen graph must compute `model(x, training=False)` for any batch size, with one input and one output.",
    'Trace with `tf.TensorSpec([None, n_features], tf.float32, name="x")`: `None` leaves the batch size free, and '
    "the graph runs on a batch of 8 here.",
    "Trace `tf.function(lambda x: model(x, training=False))`: one argument and the model's output only, so the "
    "graph has one placeholder and one output.",
)
def test_frozen_graph_matches_keras(evaluator, batch_cache, frozen, summary):
    """the frozen graph gives the Keras model's outputs"""
    x, _ = fixture_data(FIXTURE, 8, 104)
    expected = batch_cache(f"public-keras-{FIXTURE}-8-104", lambda: evaluator.recipe("keras.predict", FIXTURE, x))
    names = evaluator.recipe("tflite.graph_io", frozen)
    assert len(names["inputs"]) == 1 and len(names["outputs"]) == 1, (
        f"expected one input placeholder and one output, found inputs {names['inputs']} and outputs "
        f"{names['outputs']}")
    try:
        outputs = evaluator.recipe("tflite.run_graph", frozen, names["inputs"][0], names["outputs"][0], x)
    except LearnerError as exc:
        raise AssertionError(f"the frozen graph could not be run: {exc.type_name}: {exc.message}") from None
    assert outputs.shape == expected.shape, f"expected outputs of shape {expected.shape}, got {outputs.shape}"
    gap = float(np.max(np.abs(outputs - expected)))
    assert gap <= TOLERANCE, f"the frozen graph's outputs differ from the Keras model's by up to {gap:.2e}"


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Tensor names': inputs are the `Placeholder` nodes; outputs are nodes no other node reads, leaving "
    "out `NoOp` and `Const`.",
    "Collect every name in some `node.input`, stripping a leading `^` and any `:n` suffix; a node not in that set "
    "is an output, unless it is a `NoOp` or `Const`.",
    'Return tensor names, `f"{node.name}:0"`, not operation names, in two lists under "inputs" and "outputs".',
)
def test_io_names_of_reference_graph(learner):
    """frozen_io_names finds x:0 and Identity:0 in a frozen graph"""
    stored = public_reference("graph_freeze")  # the grader's own frozen graph of the fixture, input "x"
    reference = fixture_file(stored["frozen_graph"])
    names = learner.frozen_io_names(reference)
    assert names == {"inputs": ["x:0"], "outputs": ["Identity:0"]}, (
        f"expected {{'inputs': ['x:0'], 'outputs': ['Identity:0']}}, got {names!r}")


@pytest.mark.points(1)
@pytest.mark.hints(
    'The names must be tensor names, `"<operation>:<index>"`, of the graph your `freeze` returns; an operation '
    "name without `:0` does not resolve.",
    'Read the names from the bytes you are given (parsed into a `tf.compat.v1.GraphDef`), never hard-code `"x:0"` '
    'or `"Identity:0"`.',
)
def test_io_names_resolve_in_own_graph(learner, evaluator, frozen):
    """the names frozen_io_names gives for your graph resolve"""
    names = learner.frozen_io_names(frozen)
    assert isinstance(names, dict) and names.get("inputs") and names.get("outputs"), (
        f"expected a dict with non-empty 'inputs' and 'outputs' lists, got {names!r}")
    problems = evaluator.recipe("tflite.resolve_names", frozen, list(names["inputs"]) + list(names["outputs"]))
    bad = {name: why for name, why in problems.items() if why}
    assert not bad, f"these names do not name tensors of your graph: {bad}"
