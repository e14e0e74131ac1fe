"""Feedback that names the cause: each message a learner was sent the wrong way by, on the submission that
showed it (the reference with the one thing changed), and conversion routes the boundaries must hold for.

Each grading test is parametrized by its exercise (``exercise_id``), so the tiers follow from it
(tests/conftest.py): the mobile ones are ``tensorflow``.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from grading_helpers import assert_full_marks, assert_kept, hidden_failures, hidden_test, mutate, public_test

from grader.course.model import Course
from grader.grading.explain import explain
from grader.sandbox.recipes.kfp_local import diagnose

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def _reference(exercise_id: str, file: str) -> str:
    return (SOLUTIONS / exercise_id / file).read_text()


def _says(test, *phrases: str, never: tuple[str, ...] = ()) -> None:
    """The test lost its points, says each of ``phrases`` and none of ``never``."""
    assert test.score == 0 and test.status == "failed", f"{test.name!r} should lose its points: {test}"
    for phrase in phrases:
        assert phrase in test.output, f"{test.name!r} should say {phrase!r}; it said {test.output!r}"
    for phrase in never:
        assert phrase not in test.output, f"{test.name!r} should not say {phrase!r}; it said {test.output!r}"


# ----------------------------------------------------------------------------- kfp_sweep: typing.List

DOTTED_TYPING = (
    ("from typing import List\n", "import typing\n"),
    ("def pick_best(learning_rates: List[float], scores: List[float]) -> float:",
     "def pick_best(learning_rates: typing.List[float], scores: typing.List[float]) -> float:"),
    ("def sweep_pipeline(learning_rates: List[float] = [", "def sweep_pipeline(learning_rates: typing.List[float] = ["),
)


def test_annotation_names_are_told_apart_from_body_names():
    """The compiled source's diagnosis lists a name read only in an annotation under ``annotations`` too;
    a name read in the body is not listed there."""
    source = ("from typing import *\n\n"
              "def pick_best(learning_rates: typing.List[float], scores: List[float]) -> float:\n"
              "    return json.dumps(scores)\n")
    found = diagnose(source)
    assert found["undefined"] == ["json", "typing"] and found["annotations"] == ["typing"], found


def test_explain_says_annotations_need_typing_by_bare_name():
    """A NameError for `typing` (or `List`) in a KFP exercise is explained as an annotation's name, never with
    "move the import into the function body"; other names keep the self-contained advice."""
    exercise = Course(ROOT).exercise("kfp_sweep")
    hints = explain("the task pick-best failed with NameError: name 'typing' is not defined", exercise)
    assert [h.key for h in hints] == ["kfp:annotation:typing"], hints
    assert "from typing import List" in hints[0].text and "before its body runs" in hints[0].text
    assert "Put every import" not in hints[0].text
    hints = explain("the task pick-best failed with NameError: name 'json' is not defined", exercise)
    assert [h.key for h in hints] == ["kfp:selfcontained:json"]


@pytest.mark.parametrize("exercise_id", ["kfp_sweep"])
def test_dotted_typing_annotation_names_the_annotation(grade_source, course, exercise_id):
    """`import typing` and `typing.List[float]` in pick_best's annotations: the step fails with a NameError at
    its `def`. The public and hidden messages say the annotation is evaluated where the function is defined and
    to import `List` from typing by bare name, not to move imports into the function body (which cannot help);
    no hint of `hml check` says so either."""
    source = mutate(_reference(exercise_id, "pipeline.py"), *DOTTED_TYPING)
    result = grade_source(exercise_id, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    advice = ("annotations use `typing`", "from typing import List", "`List[float]`",
              "an import inside the body does not help")
    wrong = ("inside the component's function body", "every import, helper and constant")
    _says(public_test(result, "test_default_sweep"), *advice, never=wrong)
    _says(hidden_test(result, "test_pick_best_alone"), *advice, never=wrong)
    keys = {h.key for h in explain(public_test(result, "test_default_sweep").output, course.exercise(exercise_id))}
    assert not [k for k in keys if k.startswith("kfp:selfcontained")], keys
    assert_kept(hidden_test(result, "test_train_candidate_alone"))


# ----------------------------------------------------------------------------- hybrid: values as strings

@pytest.mark.parametrize("exercise_id", ["hybrid_portable_pipeline"])
def test_parameter_values_as_strings_are_named_as_the_wrong_type(grade_source, exercise_id):
    """vertex_job turning every parameter value into a string: the test of a second call says the values are
    of the wrong type (strings), never that state "carried" over from an earlier call (there is none)."""
    source = mutate(_reference(exercise_id, "deploy.py"), (
        "        parameter_values=dict(parameter_values),\n",
        "        parameter_values={name: str(value) for name, value in parameter_values.items()},\n"))
    result = grade_source(exercise_id, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    _says(hidden_test(result, "test_vertex_no_state_between_calls"), "wrong type", "strings",
          never=("earlier call", "carried"))
    _says(hidden_test(result, "test_vertex_typed_parameter_values"), "not converted to text")


# ----------------------------------------------------------------------------- training: rounded data

@pytest.mark.parametrize("exercise_id", ["kfp_training_pipeline"])
def test_rounded_dataset_is_blamed_not_train_model(grade_source, exercise_id):
    """prepare_data writing its floats rounded to 6 places: train_model is right for the data it is given, so
    the test of the run's weights (and of its accuracy, should that differ too) points at the data
    prepare_data wrote and says train_model needs no change; train_model run on its own, on the grader's own
    data, keeps its points."""
    source = mutate(_reference(exercise_id, "pipeline.py"), (
        "            writer.writerow([repr(x1), repr(x2), label])\n",
        "            writer.writerow([round(x1, 6), round(x2, 6), label])\n"))
    result = grade_source(exercise_id, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    _says(hidden_test(result, "test_run_dataset"), "x values differ from the specification")
    _says(hidden_test(result, "test_run_model"), "train_model is right for the data it was given",
          "Fix prepare_data", "train_model needs no change", never=("differ from full-batch gradient descent",))
    accuracy = hidden_test(result, "test_run_accuracy")  # rounding to 6 places may leave every prediction as it was
    assert accuracy.passed or "train_model needs no change" in accuracy.output, accuracy
    for name in ("test_train_model_alone", "test_train_model_all_p_at_half"):
        assert_kept(hidden_test(result, name))
    assert public_test(result, "test_default_run_is_consistent").passed


# ----------------------------------------------------------------------------- mobile_budget

BUDGET = "optimize.py"


@pytest.mark.parametrize("exercise_id", ["mobile_budget"])
def test_int8_weights_with_float_io_are_named(grade_source, exercise_id):
    """The full int8 variant converted without int8 input and output (int8 weights, float32 input and output):
    where only full int8 qualifies, the message says the returned model's input and output are float32, not
    int8, and how to set them; never "build every variant and measure each one" (the code does)."""
    source = mutate(_reference(exercise_id, BUDGET), (
        "        converter.inference_input_type = tf.int8\n        converter.inference_output_type = tf.int8\n",
        ""))
    result = grade_source(exercise_id, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    for name in ("test_only_full_int8_qualifies", "test_accuracy_equal_to_the_floor_qualifies"):
        _says(hidden_test(result, name), "input and output are float32, not int8", "inference_input_type",
              never=("build every variant and measure each one",))


@pytest.mark.parametrize("exercise_id", ["mobile_budget"])
def test_inputs_quantized_with_a_product_name_the_measurement(grade_source, exercise_id):
    """Inputs quantized as x * scale + zero_point: full int8 is measured far below its real accuracy, so it
    never qualifies. Where the floor is exactly its accuracy, the message names the measurement (quantize
    x / scale + zero_point), not the comparison, which is already >=."""
    source = mutate(_reference(exercise_id, BUDGET), (
        "np.round(x / scale + zero_point)", "np.round(x * scale + zero_point)"))
    result = grade_source(exercise_id, source)
    assert result.error is None and result.refused is None, result.error or result.refused
    assert hidden_failures(result) == {"test_only_full_int8_qualifies", "test_accuracy_equal_to_the_floor_qualifies"}
    _says(hidden_test(result, "test_accuracy_equal_to_the_floor_qualifies"),
          "the comparison with the floor is not the cause", "x / scale + zero_point",
          never=("not 'more than'",))
    _says(hidden_test(result, "test_only_full_int8_qualifies"), "quantize x_val with the input tensor's scale")


@pytest.mark.parametrize("exercise_id", ["mobile_budget"])
def test_infeasible_is_matched_in_any_case(grade_source, exercise_id):
    """A ValueError reading "Infeasible: ..." counts as "infeasible", in the public and the hidden tests."""
    source = mutate(_reference(exercise_id, BUDGET), (
        'raise ValueError(f"infeasible: no variant', 'raise ValueError(f"Infeasible: no variant'))
    assert_full_marks(grade_source(exercise_id, source), hidden_tests=8)


# The reference's conversion, rewritten with Keras 3's own LiteRT export (keras 3.15: the model's exporter runs
# TFLiteConverter.from_saved_model on an ExportArchive, and takes the converter's settings as keyword arguments).
EXPORT_ROUTE = '''def convert_variant(model, variant: str, calibration_data: np.ndarray) -> bytes:
    import os
    import tempfile

    settings = {}
    if variant != "float32":
        settings["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        settings["target_spec"] = {"supported_types": [tf.float16]}
    if variant == "int8":
        samples = np.asarray(calibration_data, dtype=np.float32)

        def representative_dataset():
            for row in samples:
                yield [row[np.newaxis, :]]

        settings.update(representative_dataset=representative_dataset,
                        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
                        inference_input_type=tf.int8, inference_output_type=tf.int8)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"{variant}.tflite")
        model.export(path, format="litert", verbose=False, **settings)
        with open(path, "rb") as handle:
            return handle.read()
'''


def _export_route(reference: str) -> str:
    start = reference.index("def convert_variant(")
    end = reference.index("def accuracy(")
    return reference[:start] + EXPORT_ROUTE + "\n\n" + reference[end:]


@pytest.mark.parametrize("exercise_id", ["mobile_budget"])
def test_reference_converted_with_model_export_earns_full_marks(grade_source, exercise_id):
    """The reference with every variant converted by `model.export(path, format="litert", ...)`: its
    flatbuffers need not have the byte counts of TFLiteConverter.from_keras_model's, yet it earns full
    marks, the exact budget and the exact floor included (they are set from its own variants)."""
    source = _export_route(_reference(exercise_id, BUDGET))
    assert "model.export(" in source and "from_keras_model" not in source
    assert_full_marks(grade_source(exercise_id, source), hidden_tests=8)


@pytest.mark.parametrize("exercise_id", ["mobile_budget"])
def test_exact_boundaries_still_catch_strict_comparisons_on_the_export_route(grade_source, exercise_id):
    """Boundaries set from the learner's own variants still separate `<` from `<=` and `>` from `>=`, on the
    export route too: each strict comparison loses its scenario, with the message naming the rule."""
    source = mutate(_export_route(_reference(exercise_id, BUDGET)), (
        "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:",
        "if len(content) < max_bytes and accuracy(content, x_val, y_val) > min_accuracy:"))
    result = grade_source(exercise_id, source)
    assert hidden_failures(result) == {"test_size_equal_to_the_budget_fits",
                                       "test_accuracy_equal_to_the_floor_qualifies"}
    _says(hidden_test(result, "test_size_equal_to_the_budget_fits"), "equals max_bytes fits the budget")
    _says(hidden_test(result, "test_accuracy_equal_to_the_floor_qualifies"), "equals min_accuracy reaches the floor")


# A red-team pass: the exact budget is set from the learner's own bytes, which the learner chooses.
BUDGET_SOURCE = (ROOT / "solutions" / "mobile_budget" / "optimize.py").read_text()
BUDGET_CHOICE = "if len(content) <= max_bytes and accuracy(content, x_val, y_val) >= min_accuracy:"


def test_padding_what_it_returns_does_not_hide_a_strict_budget(grade_source):
    """The reference with `< max_bytes` instead of `<= max_bytes`, returning its choice with 8 zero bytes
    appended (the interpreter ignores them): the exact budget, set from the bytes it returned earlier, is then
    met, but one byte under it the padded variant is returned over the budget, so it still loses points, as
    the `budget-strict` mutant does unpadded."""
    source = mutate(BUDGET_SOURCE,
                    (BUDGET_CHOICE, BUDGET_CHOICE.replace("<= max_bytes", "< max_bytes")),
                    ("    return min(qualifying)[2]\n", "    return min(qualifying)[2] + bytes(8)\n"))
    result = grade_source("mobile_budget", source)
    assert result.error is None and result.refused is None, result.error or result.refused
    assert hidden_failures(result) & {"test_size_equal_to_the_budget_fits", "test_infeasible_raises"}, \
        f"a strict budget comparison earned every point: {result.score}/{result.max_score}"
