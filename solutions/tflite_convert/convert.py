"""Reference solution: tflite_convert (Keras / SavedModel to a float32 TFLite flatbuffer, and running it)."""
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter


def to_tflite(model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return converter.convert()


def saved_model_to_tflite(saved_model_dir: str) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    return converter.convert()


def predict_tflite(model_content: bytes, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    interpreter = Interpreter(model_content=model_content)
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(target["index"]), dtype=np.float32)
