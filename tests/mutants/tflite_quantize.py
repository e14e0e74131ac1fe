"""tflite_quantize: dynamic range, float16 and full integer post-training quantization, each sentence broken once."""
from mutants import Mutant

EXERCISE = "tflite_quantize"

_DYNAMIC = "def quantize_dynamic_range(model) -> bytes:\n    return _optimizing_converter(model).convert()\n"
_INT8_IO = "    converter.inference_input_type = tf.int8\n    converter.inference_output_type = tf.int8\n"

MUTANTS = [
    Mutant("dynamic-range-not-optimized", "`quantize_dynamic_range(model)` — weights int8",
           ((_DYNAMIC, "def quantize_dynamic_range(model) -> bytes:\n"
                       "    return tf.lite.TFLiteConverter.from_keras_model(model).convert()\n"),),
           "test_dynamic_range_weights", ("unquantized float32 model", "Optimize.DEFAULT")),
    Mutant("dynamic-range-as-float16", "`quantize_dynamic_range(model)` — weights int8, activations float",
           ((_DYNAMIC, "def quantize_dynamic_range(model) -> bytes:\n"
                       "    converter = _optimizing_converter(model)\n"
                       "    converter.target_spec.supported_types = [tf.float16]\n"
                       "    return converter.convert()\n"),),
           "test_dynamic_range_weights", ("stores float16 weights", "Optimize.DEFAULT alone")),
    Mutant("dynamic-range-resource-variables", "`quantize_dynamic_range(model)` — a flatbuffer that really runs",
           ((_DYNAMIC, "def quantize_dynamic_range(model) -> bytes:\n"
                       "    function = tf.function(lambda x: model(x, training=False))\n"
                       "    concrete = function.get_concrete_function("
                       "tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32))\n"
                       "    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)\n"
                       "    converter.experimental_enable_resource_variables = True\n"
                       "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"
                       "    return converter.convert()\n"),),
           "test_dynamic_range_weights", ("reads its weights from variables at run time", "from_keras_model")),
    Mutant("float16-supported-types-missing", "`quantize_float16(model)` — float16 weights",
           (("    converter.target_spec.supported_types = [tf.float16]\n", ""),),
           "test_float16_weights", ("int8 weights", "supported_types = [tf.float16]")),
    Mutant("float16-not-optimized", "`quantize_float16(model)` — float16 weights (Optimize.DEFAULT and supported_types)",
           (("    converter = _optimizing_converter(model)\n    converter.target_spec.supported_types",
             "    converter = tf.lite.TFLiteConverter.from_keras_model(model)\n    converter.target_spec.supported_types"),),
           "test_float16_weights", ("unquantized float32 model", "Optimize.DEFAULT")),
    Mutant("int8-no-representative-dataset", "`quantize_full_int8(model, representative_data)` — full integer",
           (("    converter.representative_dataset = representative_dataset\n", ""),),
           "test_full_int8_input_output", ("needs a representative data set",)),
    Mutant("int8-float64-representative-data", "`representative_data` calibrates a float32 model",
           (("    samples = np.asarray(representative_data, dtype=np.float32)",
             "    samples = np.asarray(representative_data, dtype=np.float64)"),),
           "test_full_int8_integer_only", ("yields float64 arrays",)),
    Mutant("int8-representative-data-wrong-shape", "`representative_data` yields one input of the model's shape",
           (("yield [row[np.newaxis, :]]", "yield [row[:, np.newaxis]]"),),
           "hidden::test_full_int8_size::", ("arrays of the wrong shape",)),
    Mutant("int8-calibrated-on-random-data", "calibrated on the `representative_data` given",
           (("    samples = np.asarray(representative_data, dtype=np.float32)",
             "    samples = np.random.default_rng(0).random(np.shape(representative_data), dtype=np.float32)"),),
           "test_full_int8_accuracy", ("does not compute the function of the model", "representative data you are given")),
    Mutant("int8-float-input-output", "full integer: ... int8 input and output",
           ((_INT8_IO, ""),),
           "test_full_int8_input_output", ("inference_input_type = tf.int8",)),
    Mutant("int8-float-output", "full integer: ... int8 input and output (the output too)",
           ((_INT8_IO, "    converter.inference_input_type = tf.int8\n"),),
           "test_full_int8_input_output", ("inference_output_type = tf.int8",)),
    Mutant("int8-builtins-not-restricted", "full integer: int8 builtins only",
           (("    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]\n", ""),),
           survives="with int8 input and output and every op of these models quantizable, the converter makes a "
                    "byte-identical flatbuffer without the TFLITE_BUILTINS_INT8 restriction"),
]
