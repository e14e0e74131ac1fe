"""Hidden tests for hybrid_placement: every rule of the statement at its boundaries.

Each row of the table is one workload, placed once. A failing check says the
rule of the statement it checks, in a fixed sentence: no workload value, no
expected answer and nothing of the learner's answers (values, reasons, keys,
types, error messages, which case failed) reaches the feedback, so a crafted
answer cannot carry the hidden workloads it was given into it. Only contract
key names and built-in exception names appear.
"""
import pytest

from grader.testing import LearnerError

KEYS = ("connectivity", "latency_budget_ms", "data_residency",
        "model_size_mb", "device_memory_mb", "distinct_inputs")

BASE = {"connectivity": "always", "latency_budget_ms": 250, "data_residency": "cloud_ok",
        "model_size_mb": 40, "device_memory_mb": 512, "distinct_inputs": 5_000_000}


def w(**changes):
    return {**BASE, **changes}


# --------------------------------------------------------------------------- table
# (workload, expected value of the field the test checks)

TRAINING_ROWS = [
    (w(), "cloud"),
    (w(data_residency="on_prem_only"), "on_prem"),
    (w(data_residency="on_device_only"), "federated"),
    (w(data_residency="on_prem_only", connectivity="intermittent"), "on_prem"),
    (w(data_residency="on_device_only", connectivity="none", latency_budget_ms=30), "federated"),
    (w(connectivity="none", device_memory_mb=0), "cloud"),
]
CONNECTIVITY_ROWS = [
    (w(connectivity="always"), "cloud"),
    (w(connectivity="intermittent"), "edge"),
    (w(connectivity="none"), "edge"),
    (w(connectivity="intermittent", data_residency="on_prem_only"), "edge"),
]
LATENCY_ROWS = [
    (w(latency_budget_ms=100), "cloud"),
    (w(latency_budget_ms=99.5), "edge"),
    (w(latency_budget_ms=100.5), "cloud"),
    (w(latency_budget_ms=0), "edge"),
    (w(latency_budget_ms=99, data_residency="on_prem_only"), "edge"),
]
DEVICE_DATA_ROWS = [
    (w(data_residency="on_device_only"), "edge"),
    (w(data_residency="on_device_only", model_size_mb=300), "edge_quantized"),
    (w(data_residency="on_device_only", latency_budget_ms=5000, model_size_mb=15,
       device_memory_mb=64), "edge"),
]
QUARTER_ROWS = [
    (w(connectivity="none", model_size_mb=64, device_memory_mb=256), "edge"),
    (w(connectivity="none", model_size_mb=64.25, device_memory_mb=256), "edge_quantized"),
    (w(latency_budget_ms=50, model_size_mb=250.5, device_memory_mb=1002), "edge"),
    (w(connectivity="none", model_size_mb=0.5, device_memory_mb=2), "edge"),
]
QUANTIZED_ROWS = [
    (w(connectivity="none", model_size_mb=256, device_memory_mb=256), "edge_quantized"),
    (w(connectivity="none", model_size_mb=256.5, device_memory_mb=256), "infeasible"),
    (w(latency_budget_ms=10, model_size_mb=1000, device_memory_mb=512), "infeasible"),
    (w(latency_budget_ms=30, model_size_mb=100, device_memory_mb=120), "edge_quantized"),
]
NO_DEVICE_ROWS = [
    (w(connectivity="none", model_size_mb=5, device_memory_mb=0), "infeasible"),
    (w(connectivity="none", model_size_mb=0, device_memory_mb=0), "infeasible"),
    (w(latency_budget_ms=20, model_size_mb=1, device_memory_mb=0), "infeasible"),
    (w(data_residency="on_device_only", device_memory_mb=0), "infeasible"),
]
SERVER_ROWS = [
    (w(device_memory_mb=0), "cloud"),
    (w(data_residency="on_prem_only", latency_budget_ms=150), "on_prem"),
    (w(latency_budget_ms=5000, model_size_mb=10_000, device_memory_mb=0), "cloud"),
    (w(data_residency="on_prem_only", device_memory_mb=512), "on_prem"),
]
STATIC_ROWS = [
    (w(distinct_inputs=1_000_000), "static"),
    (w(distinct_inputs=1_000_001), "dynamic"),
    (w(data_residency="on_prem_only", distinct_inputs=0), "static"),
    (w(data_residency="on_prem_only", distinct_inputs=1_000_000), "static"),
    (w(distinct_inputs=999_999), "static"),
]
DEVICE_SERVING_ROWS = [
    (w(connectivity="none", distinct_inputs=10), "dynamic"),
    (w(latency_budget_ms=40, model_size_mb=300, distinct_inputs=1_000_000), "dynamic"),
    (w(connectivity="none", device_memory_mb=0, distinct_inputs=5), "dynamic"),
]
REASON_ROWS = [
    w(),
    w(data_residency="on_prem_only", distinct_inputs=10),
    w(connectivity="intermittent", model_size_mb=300),
    w(connectivity="none", device_memory_mb=0),
]


# --------------------------------------------------------------------------- helpers
# What each check says when it fails: the rule of the statement, in fixed words.

RULE_1 = ("place() chose the wrong training (rule 1: training follows the data: federated for "
          "data_residency 'on_device_only', on-prem for 'on_prem_only', else the cloud)")
RULE_2_CONNECTIVITY = ("without constant connectivity (connectivity 'intermittent' or 'none') the model "
                       "must run on the device (rule 2: inference, device required)")
RULE_2_LATENCY = ("a latency budget under 100 ms requires the device, a budget of exactly 100 ms "
                  "(not under 100 ms) does not, and then rule 4 decides (rule 2: inference, device required)")
RULE_2_DATA = ("with data_residency 'on_device_only' the model must run on the device, sized by rule 3 "
               "(rule 2: inference, device required)")
RULE_3_QUARTER = ("rule 3: a model of at most a quarter of device memory runs on the device as it is "
                  "(model_size_mb <= device_memory_mb / 4; exactly a quarter fits)")
RULE_3_QUANTIZED = ("rule 3: a model larger than a quarter of device memory runs quantized to a quarter of "
                    "its size if that fits the same quarter (exactly a quarter fits), and otherwise "
                    "the placement is infeasible")
RULE_3_NO_DEVICE = ("rule 3: with device_memory_mb 0 there is no device, so a model that must run on "
                    "the device has nowhere to run")
RULE_4 = ("rule 4: when nothing requires the device, inference is on a server: on-prem for "
          "data_residency 'on_prem_only', else the cloud")
RULE_5_STATIC = ("rule 5: static serving only for a model on a server with at most 1,000,000 distinct "
                 "inputs, exactly 1,000,000 included; otherwise dynamic")
RULE_5_DEVICE = ("rule 5: a model on the device (or with nowhere to run) serves dynamically: static "
                 "serving is for a model on a server only")


def _place(learner, workload):
    """The learner's answer for a valid workload, or a failure naming what went wrong."""
    try:
        result = learner.place(dict(workload))
    except LearnerError as exc:
        raise AssertionError(f"place() raised {exc.type_name} on a valid workload") from None
    assert isinstance(result, dict), "place() must return a dict"
    return result


def _text(value):
    """The learner's value if it is text, else None (arrays and such compare safely as None)."""
    return value if isinstance(value, str) else None


def _check(learner, rows, field, rule):
    """Every row's ``field`` is as expected; else the rule, and nothing of the rows or answers."""
    wrong = [workload for workload, expected in rows
             if _text(_place(learner, workload).get(field)) != expected]
    assert not wrong, rule


def _expect_value_error(learner, workload, key, what):
    # Rejecting bad workloads only counts from a place() that accepts good ones:
    # raising on everything is not validation.
    try:
        learner.place(dict(BASE))
    except LearnerError:
        raise AssertionError(f"{what} is only checked once place() accepts valid workloads, "
                             "and it raised on a valid one") from None
    try:
        learner.place(workload)
    except LearnerError as exc:
        assert isinstance(exc, ValueError), (
            f"{what} must raise ValueError naming {key!r}, but place() raised {exc.type_name}")
        assert key in exc.message, f"{what} raised ValueError, but its message does not name {key!r}"
        return
    raise AssertionError(f"{what} must raise ValueError naming {key!r}, but place() returned normally")


# --------------------------------------------------------------------------- rules

@pytest.mark.points(2)
def test_training_follows_the_data(learner):
    """Rule 1: training is federated, on-prem or cloud according to data residency"""
    _check(learner, TRAINING_ROWS, "training", RULE_1)


@pytest.mark.points(2)
def test_connectivity_requires_the_device(learner):
    """Rule 2: without constant connectivity the model runs on the device"""
    _check(learner, CONNECTIVITY_ROWS, "inference", RULE_2_CONNECTIVITY)


@pytest.mark.points(2)
def test_latency_budget_boundary(learner):
    """Rule 2: a latency budget under 100 ms (not exactly 100 ms) requires the device"""
    _check(learner, LATENCY_ROWS, "inference", RULE_2_LATENCY)


@pytest.mark.points(2)
def test_on_device_data_requires_the_device(learner):
    """Rule 2: on-device-only data is served on the device"""
    _check(learner, DEVICE_DATA_ROWS, "inference", RULE_2_DATA)


@pytest.mark.points(2)
def test_quarter_of_device_memory(learner):
    """Rule 3: a model of at most a quarter of device memory runs as is"""
    _check(learner, QUARTER_ROWS, "inference", RULE_3_QUARTER)


@pytest.mark.points(2)
def test_quantized_or_infeasible(learner):
    """Rule 3: quantization to a quarter of the size, else infeasible"""
    _check(learner, QUANTIZED_ROWS, "inference", RULE_3_QUANTIZED)


@pytest.mark.points(2)
def test_no_device_is_infeasible(learner):
    """Rule 3: a model that must run on the device has nowhere to run without one"""
    _check(learner, NO_DEVICE_ROWS, "inference", RULE_3_NO_DEVICE)


@pytest.mark.points(1)
def test_server_side_inference(learner):
    """Rule 4: on a server, inference is on-prem for on-prem data, else cloud"""
    _check(learner, SERVER_ROWS, "inference", RULE_4)


@pytest.mark.points(2)
def test_static_serving_boundary(learner):
    """Rule 5: at most 1,000,000 distinct inputs on a server are served static"""
    _check(learner, STATIC_ROWS, "serving", RULE_5_STATIC)


@pytest.mark.points(1)
def test_on_device_serving_is_dynamic(learner):
    """Rule 5: a model on the device (or nowhere) serves dynamically"""
    _check(learner, DEVICE_SERVING_ROWS, "serving", RULE_5_DEVICE)


@pytest.mark.points(1)
def test_reasons_are_given(learner):
    """reasons is a non-empty list of strings"""
    for workload in REASON_ROWS:
        reasons = _place(learner, workload).get("reasons")
        assert isinstance(reasons, list) and reasons, (
            "reasons must be a non-empty list explaining the choices")
        assert all(isinstance(r, str) and r.strip() for r in reasons), (
            "every entry of reasons must be a non-empty string")


# --------------------------------------------------------------------------- invalid workloads

@pytest.mark.points(2)
def test_missing_keys_raise_value_error(learner):
    """A missing key raises ValueError naming the key"""
    for key in KEYS:
        workload = {k: v for k, v in BASE.items() if k != key}
        _expect_value_error(learner, workload, key, f"a workload without {key!r}")


@pytest.mark.points(1)
def test_unknown_values_raise_value_error(learner):
    """An unknown connectivity or data residency raises ValueError naming the key"""
    for key, value in (("connectivity", "sometimes"), ("connectivity", ""),
                       ("data_residency", "eu_only"), ("data_residency", "cloud")):
        _expect_value_error(learner, w(**{key: value}), key, f"an unknown {key}")


@pytest.mark.points(2)
def test_negative_numbers_raise_value_error(learner):
    """A negative number raises ValueError naming the key"""
    for key, value in (("latency_budget_ms", -1), ("model_size_mb", -0.5),
                       ("device_memory_mb", -256), ("distinct_inputs", -10)):
        _expect_value_error(learner, w(**{key: value}), key, f"a negative {key}")


@pytest.mark.points(1)
def test_extra_keys_are_ignored(learner):
    """Keys outside the contract are ignored"""
    cases = [
        (w(team="search", gpu=True), {"training": "cloud", "inference": "cloud", "serving": "dynamic"}),
        (w(latency_budget_ms=50, notes=None, region="eu"),
         {"training": "cloud", "inference": "edge", "serving": "dynamic"}),
    ]
    for workload, expected in cases:
        try:
            result = learner.place(workload)
        except LearnerError as exc:
            raise AssertionError(
                f"a workload with keys outside the contract must be placed as if they were "
                f"absent, but place() raised {exc.type_name}") from None
        assert isinstance(result, dict) and all(_text(result.get(k)) == v for k, v in expected.items()), (
            "a workload with keys outside the contract must be placed as if they were absent")
