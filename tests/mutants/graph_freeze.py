"""graph_freeze: the TF2 form of freezing a graph, and reading a frozen graph's names, each sentence broken once."""
from mutants import Mutant

EXERCISE = "graph_freeze"

MUTANTS = [
    Mutant("variables-left", "with every variable folded into a constant (no variable-reading ops left)",
           (("    return frozen.graph.as_graph_def().SerializeToString()\n",
             "    return concrete.graph.as_graph_def().SerializeToString()\n"),),
           "hidden::test_no_variable_ops::", ("it is not frozen", "convert_variables_to_constants_v2")),
    Mutant("batch-dimension-fixed", "input batch dimension left unknown (`None`)",
           (("tf.TensorSpec([None, n_features], tf.float32, name=\"x\")",
             "tf.TensorSpec([1, n_features], tf.float32, name=\"x\")"),),
           "test_batch_dimension_unknown", ("the batch dimension left unknown",)),
    Mutant("training-mode", "`GraphDef` of the model's inference function",
           (("model(x, training=False)", "model(x, training=True)"),),
           survives="the fixture models have no dropout or batch normalisation, so training=True traces the same "
                    "function and the frozen graph computes exactly what the inference graph does"),
    Mutant("io-names-without-index", '`{"inputs": [...], "outputs": [...]}`, tensor names such as `"x:0"`',
           (('    inputs = [f"{node.name}:0" for node in graph_def.node if node.op == "Placeholder"]\n',
             '    inputs = [node.name for node in graph_def.node if node.op == "Placeholder"]\n'),),
           "test_io_names_of_another_graph", ("are not tensor names", "'x:0'")),
    Mutant("input-name-assumed", "`frozen_io_names(graph_def_bytes)` — the inputs of a graph produced by `freeze`",
           (('    inputs = [f"{node.name}:0" for node in graph_def.node if node.op == "Placeholder"]\n',
             '    inputs = ["x:0"]\n'),),
           "test_io_names_of_another_graph", ("whatever their name",)),
    Mutant("outputs-first-node", "the outputs of a graph produced by `freeze`",
           (('    outputs = [f"{node.name}:0" for node in graph_def.node\n'
             '               if node.name not in read and node.op not in ("Placeholder", "Const", "NoOp")]\n',
             '    outputs = [f"{node.name}:0" for node in graph_def.node if node.op not in ("Placeholder", "Const")][:1]\n'),),
           "test_io_names_of_another_graph", ("node no other node reads",)),
]
