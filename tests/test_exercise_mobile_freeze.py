"""graph_freeze graded end to end: reference, starter and a graph that is not really frozen.

The GraphDef is judged in the evaluator by op types (never node names),
imported and run there.
"""
from __future__ import annotations

from pathlib import Path

from grading_helpers import (
    mutate as _mutate,
    assert_lost as _lost,
    hidden_failures as _hidden_failures,
    hidden_test as _hidden,
    assert_full_marks,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "graph_freeze"
REFERENCE = ROOT / "solutions" / EXERCISE / "freeze.py"
STARTER = ROOT / "exercises" / EXERCISE / "freeze.py"


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    assert_full_marks(grade(EXERCISE, REFERENCE), hidden_tests=5)


def test_starter_earns_nothing(grade):
    """The starter as shipped raises NotImplementedError everywhere and earns nothing."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    _lost(_hidden(result, "test_no_variable_ops"), "not implemented yet")


def test_unfrozen_graph_and_operation_names_lose_points(grade_source):
    """A "frozen" graph that still reads variables (the concrete function's own graph) and
    I/O names without the ':0' output index lose their tests; the hidden input name is not shown."""
    source = _mutate(
        REFERENCE.read_text(),
        ("    frozen = convert_variables_to_constants_v2(concrete)\n    return frozen.graph.as_graph_def()",
         "    return concrete.graph.as_graph_def()"),
        ('    inputs = [f"{node.name}:0" for node in graph_def.node if node.op == "Placeholder"]',
         '    inputs = [node.name for node in graph_def.node if node.op == "Placeholder"]'),
        ('    outputs = [f"{node.name}:0" for node in graph_def.node',
         '    outputs = [node.name for node in graph_def.node'),
    )
    result = grade_source(EXERCISE, source)
    assert _hidden_failures(result) == {
        "test_no_variable_ops", "test_frozen_graph_matches_keras", "test_io_names_of_another_graph",
        "test_io_names_resolve_in_own_graph"}
    no_variables = _hidden(result, "test_no_variable_ops")
    _lost(no_variables, "still reads variables", "ReadVariableOp", "convert_variables_to_constants_v2")
    _lost(_hidden(result, "test_frozen_graph_matches_keras"), "more than one placeholder")
    names = _hidden(result, "test_io_names_of_another_graph")
    _lost(names, "like 'x:0'")
    assert "sensor_readings" not in names.output
    _lost(_hidden(result, "test_io_names_resolve_in_own_graph"), "output index")
    assert _hidden(result, "test_batch_dimension_unknown").passed
