"""Reference solution: tflite_quantize (dynamic range, float16 and full integer post-training quantization)."""
import numpy as np
import tensorflow as tf


def _optimizing_converter(model):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter


def quantize_dynamic_range(model) -> bytes:
    return _optimizing_converter(model).convert()


def quantize_float16(model) -> bytes:
    converter = _optimizing_converter(model)
    converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def quantize_full_int8(model, representative_data: np.ndarray) -> bytes:
    samples = np.asarray(representative_data, dtype=np.float32)

    def representative_dataset():
        for row in samples:
            yield [row[np.newaxis, :]]          # a list of inputs, each a batch of one

    converter = _optimizing_converter(model)
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()
