"""Public tests for mobile_budget: fixture models `mlp` and `fragile`.

The budgets are set from the grader's own conversions of the same model
(stored with the course): their sizes and their accuracies on the
validation set you are given. The model you return is
then measured there too: its size, its accuracy on an evaluation set it
has not seen, and its outputs on probe inputs, which must stay as close to
the given Keras model's as its kind of quantization allows (it must be a
conversion of the model you are given). The hidden tests do the same with
other models and budgets.
"""
import pytest

from grader.testing import AGREEMENT, LearnerError, build, deviation, fixture_data, probe_inputs, public_reference

SLACK = 1.01  # "the smallest" allows 1% for conversion details


# The grader's own conversions of the public fixtures: {fixture: {variant: {"size", "accuracy"}}},
# the accuracy measured on the validation data below.
STORED = public_reference("mobile_budget")


def _data(fixture):
    calibration, _ = fixture_data(fixture, *STORED["calibration"])
    x_val, y_val = fixture_data(fixture, *STORED["validation"])
    x_eval, y_eval = fixture_data(fixture, 1000, 107)
    return calibration, x_val, y_val, x_eval, y_eval


def _variants(fixture):
    return STORED["variants"][fixture]


def _optimize(learner, fixture, max_bytes, min_accuracy):
    calibration, x_val, y_val, _, _ = _data(fixture)
    return learner.optimize_for_device(build("keras.classifier", fixture), calibration, max_bytes, min_accuracy,
                                       x_val, y_val)


def _is_a_conversion(evaluator, batch_cache, fixture, content, kind):
    calibration, _, _, _, _ = _data(fixture)
    x = probe_inputs(calibration, 300, 108)
    # The Keras model's own outputs: computed once per batch (TensorFlow in the evaluator is an import of seconds).
    expected = batch_cache("public-keras-{}-probes-{}-{}-300-108".format(fixture, *STORED["calibration"]),
                           lambda: evaluator.recipe("keras.predict", fixture, x))
    gap = deviation(evaluator.recipe("tflite.run", content, x), expected)
    allowed = AGREEMENT.get(kind, max(AGREEMENT.values()))
    assert gap <= allowed, (
        f"the returned model is not a conversion of the model it was given: on probe inputs its outputs differ "
        f"from the Keras model's by {gap:.4f} on average, more than a {kind} model may ({allowed})")


def _check(evaluator, batch_cache, fixture, content, variants, max_bytes, min_accuracy):
    assert isinstance(content, (bytes, bytearray)), (
        f"optimize_for_device must return a flatbuffer as bytes, not {type(content).__name__}")
    content = bytes(content)
    assert len(content) <= max_bytes, f"the model is {len(content)} bytes, over the budget of {max_bytes} bytes"
    _, _, _, x_eval, y_eval = _data(fixture)
    result = evaluator.recipe("tflite.evaluate", content, x_eval, y_eval)
    assert result["finite"], "the returned model outputs NaN or infinity"
    assert result["accuracy"] >= min_accuracy - 0.02, (
        f"the returned model's accuracy on an evaluation set is {result['accuracy']:.3f}, below the floor "
        f"{min_accuracy:.3f} less 2 points: measure each variant's accuracy on (x_val, y_val)")
    qualifying = {k: v["size"] for k, v in variants.items() if v["size"] <= max_bytes and v["accuracy"] >= min_accuracy}
    smallest = min(qualifying.values())
    kind = evaluator.recipe("tflite.inspect", content)["kind"]
    _is_a_conversion(evaluator, batch_cache, fixture, content, kind)
    assert len(content) <= smallest * SLACK, (
        f"you returned a {kind} model of {len(content)} bytes, but a qualifying variant has {smallest} bytes "
        f"(qualifying variants and sizes: {qualifying})")


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'The contract': convert all four variants, keep those within both budgets, and return the one with "
    "the fewest bytes.",
    "Compare measured sizes, `len(flatbuffer)`: full int8 is not always the smallest, it can be a little larger "
    "than dynamic range.",
    "Keep `(len(content), content)` for each qualifying variant and return the smallest's content; a size equal "
    "to `max_bytes` fits (`<=`).",
)
def test_smallest_when_every_variant_keeps_accuracy(learner, evaluator, batch_cache, metric):
    """mlp: every variant keeps accuracy, the smallest is returned"""
    variants = _variants("mlp")
    max_bytes = variants["float32"]["size"]
    min_accuracy = round(min(v["accuracy"] for v in variants.values()) - 0.03, 4)
    content = _optimize(learner, "mlp", max_bytes, min_accuracy)
    _check(evaluator, batch_cache, "mlp", content, variants, max_bytes, min_accuracy)
    metric("model_bytes", len(content))  # the leaderboard's model size: only a model that passed the checks


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'Measure the accuracy, do not assume it': on this model the 8-bit variants lose accuracy, so the "
    "smallest variant is not the answer.",
    "Run every variant with the interpreter on all of `x_val` (input resized to the batch) and compare the argmax "
    "of its outputs with `y_val`; drop variants below `min_accuracy`.",
    "For the int8 variant, quantize `x_val` with the input tensor's `quantization` (scale, zero point) as the "
    "README shows; the other variants take float32 input.",
)
def test_float16_when_8bit_loses_accuracy(learner, evaluator, batch_cache):
    """fragile: 8-bit variants lose accuracy, float16 is returned"""
    variants = _variants("fragile")
    max_bytes = (variants["float16"]["size"] + variants["float32"]["size"]) // 2
    min_accuracy = round(variants["float16"]["accuracy"] - 0.03, 4)
    try:
        content = _optimize(learner, "fragile", max_bytes, min_accuracy)
    except LearnerError as exc:
        if exc.type_name != "ValueError":
            raise
        # str(exc) already begins "`optimize_for_device` raised": name the function once.
        raise AssertionError(f"optimize_for_device raised {exc.type_name}: {exc.message}, but the float16 "
                             f"variant meets a budget of "
                             f"{max_bytes} bytes and an accuracy floor of {min_accuracy} "
                             f"(variants: {variants})") from None
    _check(evaluator, batch_cache, "fragile", content, variants, max_bytes, min_accuracy)


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'The contract': when no variant meets both budgets, raise instead of returning the nearest one.",
    "After measuring all four variants, raise `ValueError` if none qualifies; returning `None` or the smallest "
    "variant anyway does not count.",
    'Put the word infeasible in the message, e.g. `raise ValueError("infeasible: no variant fits the budget")`.',
)
def test_infeasible_budget_raises(learner):
    """a budget no variant fits raises ValueError('... infeasible ...')"""
    try:
        result = _optimize(learner, "mlp", 20_000, 0.5)
    except LearnerError as exc:
        assert isinstance(exc, ValueError), f"expected ValueError, got {exc.type_name}: {exc.message}"
        assert "infeasible" in exc.message.lower(), (
            f"the ValueError's message must contain 'infeasible' (in any case): {exc.message!r}")
        return
    raise AssertionError(f"no variant fits 20000 bytes, yet optimize_for_device returned "
                         f"{type(result).__name__} ({len(result) if isinstance(result, bytes) else ''} bytes): "
                         "raise ValueError('infeasible: ...')")
