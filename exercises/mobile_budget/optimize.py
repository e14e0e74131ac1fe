# %% [markdown]
# # The smallest model that still does the job
#
# Optimizing TensorFlow for mobile. Convert a Keras model to four TFLite
# variants, measure each one's size and validation accuracy, and return the
# smallest that fits both the size budget and the accuracy floor.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check mobile_budget optimize.py`.

# %%
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

VARIANTS = ("float32", "float16", "dynamic_range", "int8")


# %% [markdown]
# ## The four variants
#
# As in `tflite_convert` and `tflite_quantize`; the int8 variant is full
# integer (int8 input and output), calibrated on `calibration_data`.

# %%
def convert_variant(model, variant: str, calibration_data: np.ndarray) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    # TODO: configure the converter for `variant` and convert.
    raise NotImplementedError("convert_variant: see README, section 'Why this matters'")


# %% [markdown]
# ## Accuracy of a flatbuffer
#
# Run it on the whole validation set (resize the input to the batch);
# quantize the input first when the model takes int8.

# %%
def accuracy(model_content: bytes, x: np.ndarray, y: np.ndarray) -> float:
    # TODO: the share of rows whose highest output is the label.
    raise NotImplementedError("accuracy: see README, section 'The contract'")


# %% [markdown]
# ## The choice

# %%
def optimize_for_device(model, calibration_data, max_bytes: int, min_accuracy: float, x_val, y_val) -> bytes:
    # TODO: the smallest variant with len(flatbuffer) <= max_bytes and
    # accuracy on (x_val, y_val) >= min_accuracy; otherwise
    # raise ValueError("infeasible: ...").
    raise NotImplementedError("optimize_for_device: see README, section 'The contract'")
