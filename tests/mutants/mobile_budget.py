"""mobile_budget: the smallest TFLite variant within a size budget and an accuracy floor, each sentence broken once."""
from mutants import Mutant

EXERCISE = "mobile_budget"

# Most rows edit optimize_for_device, and rows that edit the same function never share a grading: this table is
# graded in about a dozen gradings of some 15 s each.

_CHOICE = "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:"
_RAISE = ('        raise ValueError(f"infeasible: no variant is at most {max_bytes} bytes "\n'
          '                         f"with an accuracy of at least {min_accuracy}")\n')
_QUANTIZE_INPUT = "        x = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)\n"

MUTANTS = [
    Mutant("budget-strict", "whose size is at most `max_bytes`",
           ((_CHOICE, _CHOICE.replace("<= max_bytes", "< max_bytes")),),
           "test_size_equal_to_the_budget_fits", ("equals max_bytes fits the budget", "(<=)")),
    Mutant("floor-strict", "whose accuracy on `(x_val, y_val)` is at least `min_accuracy`",
           ((_CHOICE, _CHOICE.replace(">= min_accuracy", "> min_accuracy")),),
           "test_accuracy_equal_to_the_floor_qualifies", ("equals min_accuracy reaches the floor", "(>=)")),
    Mutant("accuracy-on-calibration-data", "accuracy on `(x_val, y_val)`",
           (("accuracy(content, x_val, y_val) >= min_accuracy", "accuracy(content, calibration_data, y_val) >= min_accuracy"),),
           "test_generous_budget_fits", ("said 'infeasible'", "not on the calibration data")),
    Mutant("never-int8", "among float32, float16, dynamic range, full int8",
           (('VARIANTS = ("float32", "float16", "dynamic_range", "int8")',
             'VARIANTS = ("float32", "float16", "dynamic_range")'),),
           "test_only_full_int8_qualifies", ("only the full int8 variant meets both here", "build it too")),
    Mutant("int8-inputs-not-quantized", "full int8 measured like the others (its inputs quantized)",
           ((_QUANTIZE_INPUT, "        x = x.astype(np.int8)\n"),),
           "test_only_full_int8_qualifies", ("quantize x_val with the input tensor's scale and zero point",),
           # Alone: with full int8 measured wrongly, the exact floor's message names the measurement, not `>=`.
           alone=True),
    Mutant("float16-is-dynamic-range", "among float32, float16 (float16 weights), ...",
           (("    if variant == \"float16\":\n        converter.target_spec.supported_types = [tf.float16]\n", ""),),
           "test_quantization_that_hurts_is_rejected", ("said 'infeasible'", "supported_types = [tf.float16]")),
    Mutant("int8-no-representative-dataset", "full int8 (calibrated on `calibration_data`)",
           (("        converter.representative_dataset = representative_dataset\n", ""),),
           "test_generous_budget_fits", ("needs a representative data set",), alone=True),
    Mutant("float32-optimized", "among float32 (no optimizations), ...",
           (('    if variant != "float32":\n        converter.optimizations = [tf.lite.Optimize.DEFAULT]\n',
             '    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n'),),
           survives="float16 keeps float32's accuracy on every fixture, so no scenario makes float32 the only "
                    "qualifying variant, and a float32 candidate that is really dynamic range never changes the "
                    "smallest qualifying model"),
    Mutant("budget-ignored", "whose size is at most `max_bytes`",
           ((_CHOICE, "if accuracy(content, x_val, y_val) >= min_accuracy:"),),
           "test_infeasible_raises", ("over the size budget", "must fit max_bytes")),
    Mutant("accuracy-ignored", "whose accuracy ... is at least `min_accuracy` (quantization does not always keep it)",
           ((_CHOICE, "if len(content) <= max_bytes:"),),
           "test_quantization_that_hurts_is_rejected", ("below the floor", "quantization does not always keep accuracy"),
           alone=True),
    Mutant("largest-not-smallest", "the smallest TFLite model ... whose size ... and whose accuracy ...",
           (("    return min(qualifying)[2]\n", "    return max(qualifying)[2]\n"),),
           "test_generous_budget_smallest", ("smaller variant also meets",)),
    Mutant("always-float32", "the smallest TFLite model (among float32, float16, dynamic range, full int8)",
           (("    qualifying = []\n", '    return convert_variant(model, "float32", calibration_data)\n    qualifying = []\n'),),
           "test_generous_budget_smallest", ("you returned the float32 variant",), alone=True),
    Mutant("never-raises", 'raises `ValueError` ... when none qualifies',
           ((_RAISE, '        return convert_variant(model, "int8", calibration_data)\n'),),
           "test_infeasible_raises", ("raise ValueError('infeasible",)),
    Mutant("int8-assumed-smallest", "Full int8 is not always the smallest ...: the choice must be measured",
           (("    return min(qualifying)[2]\n",
             '    return next((c for _, v, c in qualifying if v == "int8"), min(qualifying)[2])\n'),),
           "test_generous_budget_smallest", ("you returned the full int8 variant", "full int8 is not always the smallest")),
    Mutant("message-without-infeasible", 'raises `ValueError` whose message contains `"infeasible"`',
           ((_RAISE, '        raise ValueError("no variant meets the budget")\n'),),
           "test_infeasible_raises", ("must contain 'infeasible'",)),
    Mutant("wrong-exception-type", "raises `ValueError` ... when none qualifies",
           ((_RAISE, '        raise RuntimeError("infeasible: no variant qualifies")\n'),),
           "test_infeasible_raises", ("raise ValueError",)),
]
