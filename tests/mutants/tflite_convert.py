"""tflite_convert: Keras and SavedModel to a float32 flatbuffer, and running it, each sentence broken once."""
from mutants import Mutant

EXERCISE = "tflite_convert"

# A converter route a learner finds for "convert a tf.function": the model as the trackable object keeps the
# weights as resource variables, which the flatbuffer then reads at run time (and the interpreter gives NaN).
_RESOURCE_VARIABLES = (
    "def to_tflite(model) -> bytes:\n"
    "    function = tf.function(lambda x: model(x, training=False))\n"
    "    concrete = function.get_concrete_function(tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32))\n"
    "    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)\n"
    "    converter.experimental_enable_resource_variables = True\n"
    "    return converter.convert()\n")

MUTANTS = [
    Mutant("to-tflite-optimized", "`to_tflite(model)` — float32 TFLite flatbuffer ..., no optimizations",
           (("def to_tflite(model) -> bytes:\n    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n",
             "def to_tflite(model) -> bytes:\n    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n"
             "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"),),
           "test_to_tflite_float32", ("no optimizations", "leave converter.optimizations unset")),
    Mutant("to-tflite-resource-variables", "`to_tflite(model)` — float32 TFLite flatbuffer of a Keras model",
           (("def to_tflite(model) -> bytes:\n    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n"
             "    return converter.convert()\n", _RESOURCE_VARIABLES),),
           "test_to_tflite_float32", ("reads its weights from variables at run time", "from_keras_model")),
    Mutant("saved-model-float16", "`saved_model_to_tflite(saved_model_dir)` — the same (float32, no optimizations)",
           (("    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)\n",
             "    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)\n"
             "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"
             "    converter.target_spec.supported_types = [tf.float16]\n"),),
           "test_saved_model_float32", ("stored as float16", "leave converter.optimizations unset")),
    Mutant("no-float64-cast", "`predict_tflite` ... (float64 input is cast to float32)",
           (("    x = np.asarray(x, dtype=np.float32)\n", "    x = np.asarray(x)\n"),),
           "test_predict_casts_float64", ("cast the input to float32",)),
    Mutant("no-resize", "`predict_tflite` ... on a batch of any size `n >= 1`",
           (("    interpreter.resize_tensor_input(source[\"index\"], list(x.shape))\n", ""),),
           "test_predict_any_batch_size", ("resize_tensor_input",)),
    Mutant("single-row-squeezed", "returns ... outputs of shape `(len(x), n_outputs)` (also for n = 1)",
           (("    return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)\n",
             "    return np.squeeze(np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32))\n"),),
           "test_predict_any_batch_size", ("a single row", "one row of outputs per input row")),
    Mutant("float64-outputs", "returns float32 outputs",
           (("    return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)\n",
             "    return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float64)\n"),),
           "test_predict_returns_float32", ("must return float32 outputs", "float64")),
    Mutant("outputs-rescaled", "returns float32 outputs (the model's outputs)",
           (("    return np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)\n",
             "    scores = np.asarray(interpreter.get_tensor(target[\"index\"]), dtype=np.float32)\n"
             "    return scores / scores.max(axis=1, keepdims=True)\n"),),
           "test_predict_matches_keras", ("return the output tensor of the invoked interpreter, unchanged",)),
]
