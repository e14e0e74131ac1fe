# %% [markdown]
# # From Keras to TensorFlow Lite
#
# Optimizing TensorFlow for mobile. Convert a trained Keras model (and the
# same model exported as a SavedModel) to a float32 TFLite flatbuffer, then
# run a flatbuffer with the LiteRT interpreter, as an app on a phone would.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check tflite_convert convert.py`.

# %%
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter


# %% [markdown]
# ## Converting
#
# `to_tflite(model)` converts a Keras model, `saved_model_to_tflite(path)` a
# SavedModel directory. Both return the flatbuffer as `bytes`: 32-bit
# floats, no optimizations.

# %%
def to_tflite(model) -> bytes:
    # TODO: build a converter from the Keras model and convert it.
    raise NotImplementedError("to_tflite: see README, section 'Converting a Keras model'")


def saved_model_to_tflite(saved_model_dir: str) -> bytes:
    # TODO: the same, from a SavedModel directory.
    raise NotImplementedError("saved_model_to_tflite: see README, section 'Converting a SavedModel'")


# %% [markdown]
# ## Running a flatbuffer
#
# `predict_tflite(model_content, x)` runs the flatbuffer on a batch of any
# size and returns float32 outputs of shape `(len(x), n_outputs)`.

# %%
def predict_tflite(model_content: bytes, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    interpreter = Interpreter(model_content=model_content)
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    # TODO: make the input tensor as large as the batch, allocate the
    # tensors, set the input, invoke, and return the output as float32.
    raise NotImplementedError("predict_tflite: see README, section 'Running a flatbuffer'")
