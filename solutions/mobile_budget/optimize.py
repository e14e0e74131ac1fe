"""Reference solution: mobile_budget (the smallest TFLite variant that fits the size and accuracy budget)."""
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

VARIANTS = ("float32", "float16", "dynamic_range", "int8")


def convert_variant(model, variant: str, calibration_data: np.ndarray) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        samples = np.asarray(calibration_data, dtype=np.float32)

        def representative_dataset():
            for row in samples:
                yield [row[np.newaxis, :]]

        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def accuracy(model_content: bytes, x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float32)
    interpreter = Interpreter(model_content=model_content)
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], list(x.shape))
    interpreter.allocate_tensors()
    if source["dtype"] == np.int8:
        scale, zero_point = source["quantization"]
        x = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    scores = interpreter.get_tensor(target["index"])   # argmax is unchanged by dequantizing
    return float(np.mean(scores.argmax(axis=1) == np.asarray(y)))


def optimize_for_device(model, calibration_data, max_bytes: int, min_accuracy: float, x_val, y_val) -> bytes:
    qualifying = []
    for variant in VARIANTS:
        content = convert_variant(model, variant, calibration_data)
        if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:
            qualifying.append((len(content), variant, content))
    if not qualifying:
        raise ValueError(f"infeasible: no variant is at most {max_bytes} bytes "
                         f"with an accuracy of at least {min_accuracy}")
    return min(qualifying)[2]
