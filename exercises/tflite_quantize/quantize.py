# %% [markdown]
# # Post-training quantization: dynamic range, float16, full integer
#
# Optimizing TensorFlow for mobile. Three settings of the TFLite converter
# make three smaller models from the same Keras model.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check tflite_quantize quantize.py`.

# %%
import numpy as np
import tensorflow as tf


# %% [markdown]
# ## Dynamic range: int8 weights, float activations

# %%
def quantize_dynamic_range(model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    # TODO: ask the converter to optimize (that is what quantizes the weights).
    raise NotImplementedError("quantize_dynamic_range: see README, section 'Dynamic range quantization'")


# %% [markdown]
# ## Float16: half-size weights, float accuracy

# %%
def quantize_float16(model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    # TODO: optimize, and say which reduced type the weights should take.
    raise NotImplementedError("quantize_float16: see README, section 'Float16 quantization'")


# %% [markdown]
# ## Full integer: int8 everywhere, calibrated on representative data

# %%
def quantize_full_int8(model, representative_data: np.ndarray) -> bytes:
    samples = np.asarray(representative_data, dtype=np.float32)

    def representative_dataset():
        # TODO: yield the samples one at a time, in the form the converter expects.
        raise NotImplementedError("representative_dataset: see README, section 'Full integer quantization'")

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    # TODO: optimize, give the representative data set, allow int8 builtins
    # only, and make the input and output int8.
    raise NotImplementedError("quantize_full_int8: see README, section 'Full integer quantization'")
