# %% [markdown]
# # Freezing a graph, the TensorFlow 2 way
#
# Optimizing TensorFlow for mobile. Trace a Keras model's inference into a
# concrete function, fold its variables into constants, and read the
# frozen graph's input and output tensor names.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check graph_freeze freeze.py`.

# %%
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


# %% [markdown]
# ## Freeze
#
# Trace `model(x, training=False)` with a float32 input of shape
# `(None, n_features)`, fold the variables into constants, and return the
# serialized `GraphDef`.

# %%
def freeze(model) -> bytes:
    n_features = model.inputs[0].shape[-1]
    # TODO: a tf.function of the inference, its concrete function for a
    # TensorSpec with an unknown batch dimension, then
    # convert_variables_to_constants_v2, then the graph's GraphDef as bytes.
    raise NotImplementedError("freeze: see README, section 'TensorFlow 2: concrete functions'")


# %% [markdown]
# ## Input and output tensor names
#
# Inputs: the `Placeholder` nodes. Outputs: nodes no other node reads
# (not `NoOp`, not `Const`). Tensor names end with the output index, `":0"`.

# %%
def frozen_io_names(graph_def_bytes: bytes) -> dict:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_def_bytes)
    # TODO: collect the names of the nodes other nodes read (node.input holds
    # "name", "name:1" or "^name"), then the input and output tensor names.
    raise NotImplementedError("frozen_io_names: see README, section 'Tensor names'")
