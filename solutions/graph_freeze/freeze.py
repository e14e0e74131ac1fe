"""Reference solution: graph_freeze (the TF2 form of freezing a graph)."""
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


def freeze(model) -> bytes:
    n_features = model.inputs[0].shape[-1]
    inference = tf.function(lambda x: model(x, training=False))
    concrete = inference.get_concrete_function(tf.TensorSpec([None, n_features], tf.float32, name="x"))
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def().SerializeToString()


def frozen_io_names(graph_def_bytes: bytes) -> dict:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_def_bytes)
    read = {source.lstrip("^").split(":")[0] for node in graph_def.node for source in node.input}
    inputs = [f"{node.name}:0" for node in graph_def.node if node.op == "Placeholder"]
    outputs = [f"{node.name}:0" for node in graph_def.node
               if node.name not in read and node.op not in ("Placeholder", "Const", "NoOp")]
    return {"inputs": inputs, "outputs": outputs}
