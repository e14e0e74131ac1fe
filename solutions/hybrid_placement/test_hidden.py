"""Hidden tests for hybrid_placement: every rule of the statement at its boundaries.

Each row of the table is one workload, placed once. Failure messages name the
input that decided the placement and the rule of the statement that applies;
they never print a whole workload or the expected answer, and they echo the
learner's own answer only when it is one of the contract's values (so a
crafted answer cannot smuggle a hidden input into the feedback).
"""
import pytest

from grader.testing import LearnerError

KEYS = ("connectivity", "latency_budget_ms", "data_residency",
        "model_size_mb", "device_memory_mb", "distinct_inputs")
TRAINING = ("cloud", "on_prem", "federated")
INFERENCE = ("cloud", "on_prem", "edge", "edge_quantized", "infeasible")
ON_DEVICE = ("edge", "edge_quantized", "infeasible")
SERVING = ("static", "dynamic")

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

def _place(learner, workload, index):
    """The learner's answer for a valid workload, or a failure naming what went wrong."""
    try:
        result = learner.place(dict(workload))
    except LearnerError as exc:
        raise AssertionError(f"place() raised {exc.type_name} on a valid workload "
                             f"(case {index + 1} of this check)") from None
    assert isinstance(result, dict), f"place() must return a dict, not {type(result).__name__}"
    return result


def _text(value):
    """The learner's value if it is text, else None (arrays and such compare safely as None)."""
    return value if isinstance(value, str) else None


def _shown(value, allowed):
    """The learner's value if it is one of the contract's values, else a neutral phrase."""
    return repr(value) if isinstance(value, str) and value in allowed else "a value outside the contract"


def _device_triggers(workload):
    triggers = []
    if workload["connectivity"] != "always":
        triggers.append(f"connectivity {workload['connectivity']!r}")
    if workload["latency_budget_ms"] < 100:
        triggers.append(f"a latency budget of {workload['latency_budget_ms']} ms")
    if workload["data_residency"] == "on_device_only":
        triggers.append("data_residency 'on_device_only'")
    return triggers


def _inference_problem(workload, expected, got):
    """Why the learner's inference is wrong, in the statement's terms (None if right)."""
    if got == expected:
        return None
    shown = _shown(got, INFERENCE)
    triggers = _device_triggers(workload)
    if expected in ON_DEVICE:
        if got not in ON_DEVICE:
            return (f"with {' and '.join(triggers)} the model must run on the device "
                    f"(rule 2: inference, device required), but place() chose {shown}")
        if workload["device_memory_mb"] == 0:
            return ("with device_memory_mb 0 there is no device to run on (rule 3: inference "
                    f"on the device, no device), but place() chose {shown}")
        return (f"with model_size_mb {workload['model_size_mb']} and device_memory_mb "
                f"{workload['device_memory_mb']} place() chose {shown} (rule 3: the model may use "
                "a quarter of device memory, as is or quantized to a quarter of its size; "
                "exactly a quarter fits)")
    if got in ON_DEVICE:
        latency = workload["latency_budget_ms"]
        return (f"with connectivity 'always', a latency budget of {latency} ms (not under 100 ms) "
                f"and data_residency {workload['data_residency']!r} nothing requires the device "
                f"(rule 2), but place() chose {shown}; rule 4 applies")
    return (f"with data_residency {workload['data_residency']!r} and the model on a server, "
            f"place() chose {shown} (rule 4: inference on a server)")


def _check_inference(learner, rows):
    problems = []
    for index, (workload, expected) in enumerate(rows):
        got = _text(_place(learner, workload, index).get("inference"))
        problem = _inference_problem(workload, expected, got)
        if problem:
            problems.append(problem)
    assert not problems, "; ".join(list(dict.fromkeys(problems))[:2])


def _check_serving(learner, rows):
    problems = []
    for index, (workload, expected) in enumerate(rows):
        got = _text(_place(learner, workload, index).get("serving"))
        if got == expected:
            continue
        where = "on the device" if _device_triggers(workload) else "on a server"
        problems.append(
            f"with distinct_inputs {workload['distinct_inputs']} and the model {where}, "
            f"place() chose serving {_shown(got, SERVING)} (rule 5: static only for a model on a "
            "server with at most 1,000,000 distinct inputs, exactly 1,000,000 included)")
    assert not problems, "; ".join(list(dict.fromkeys(problems))[:2])


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
    problems = []
    for index, (workload, expected) in enumerate(TRAINING_ROWS):
        got = _text(_place(learner, workload, index).get("training"))
        if got != expected:
            problems.append(f"with data_residency {workload['data_residency']!r} place() trained "
                            f"{_shown(got, TRAINING)} (rule 1: training follows the data)")
    assert not problems, "; ".join(list(dict.fromkeys(problems))[:2])


@pytest.mark.points(2)
def test_connectivity_requires_the_device(learner):
    """Rule 2: without constant connectivity the model runs on the device"""
    _check_inference(learner, CONNECTIVITY_ROWS)


@pytest.mark.points(2)
def test_latency_budget_boundary(learner):
    """Rule 2: a latency budget under 100 ms (not exactly 100 ms) requires the device"""
    _check_inference(learner, LATENCY_ROWS)


@pytest.mark.points(2)
def test_on_device_data_requires_the_device(learner):
    """Rule 2: on-device-only data is served on the device"""
    _check_inference(learner, DEVICE_DATA_ROWS)


@pytest.mark.points(2)
def test_quarter_of_device_memory(learner):
    """Rule 3: a model of at most a quarter of device memory runs as is"""
    _check_inference(learner, QUARTER_ROWS)


@pytest.mark.points(2)
def test_quantized_or_infeasible(learner):
    """Rule 3: quantization to a quarter of the size, else infeasible"""
    _check_inference(learner, QUANTIZED_ROWS)


@pytest.mark.points(2)
def test_no_device_is_infeasible(learner):
    """Rule 3: a model that must run on the device has nowhere to run without one"""
    _check_inference(learner, NO_DEVICE_ROWS)


@pytest.mark.points(1)
def test_server_side_inference(learner):
    """Rule 4: on a server, inference is on-prem for on-prem data, else cloud"""
    _check_inference(learner, SERVER_ROWS)


@pytest.mark.points(2)
def test_static_serving_boundary(learner):
    """Rule 5: at most 1,000,000 distinct inputs on a server are served static"""
    _check_serving(learner, STATIC_ROWS)


@pytest.mark.points(1)
def test_on_device_serving_is_dynamic(learner):
    """Rule 5: a model on the device (or nowhere) serves dynamically"""
    _check_serving(learner, DEVICE_SERVING_ROWS)


@pytest.mark.points(1)
def test_reasons_are_given(learner):
    """reasons is a non-empty list of strings"""
    for index, workload in enumerate(REASON_ROWS):
        reasons = _place(learner, workload, index).get("reasons")
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
