"""Public tests for hybrid_placement: the statement's example and a few plain workloads.

The hidden tests check every rule at its boundaries; these show the shape of
an answer.
"""
import pytest

from grader.testing import LearnerError

CLOUD = {"connectivity": "always", "latency_budget_ms": 300, "data_residency": "cloud_ok",
         "model_size_mb": 120, "device_memory_mb": 0, "distinct_inputs": 50_000}


def _fields(result):
    assert isinstance(result, dict), f"place() must return a dict, not {type(result).__name__}"
    return {k: result.get(k) for k in ("training", "inference", "serving")}


@pytest.mark.points(2)
@pytest.mark.hints(
    "Work through the README's 'Example' rule by rule and compare each of your three fields with its explanation.",
    "Rule 3 tries two sizes against the same budget, a quarter of device memory: the model as is, then the "
    "quantized model at a quarter of its size.",
    'Here `40 <= 100 / 4` fails and `40 / 4 <= 100 / 4` holds, so "edge_quantized"; any on-device answer serves '
    '"dynamic" (rule 5).',
)
def test_readme_example(learner):
    """The README example: intermittent connectivity, model fits only quantized"""
    result = learner.place({"connectivity": "intermittent", "latency_budget_ms": 250,
                            "data_residency": "cloud_ok", "model_size_mb": 40,
                            "device_memory_mb": 100, "distinct_inputs": 10_000})
    expected = {"training": "cloud", "inference": "edge_quantized", "serving": "dynamic"}
    got = _fields(result)
    assert got == expected, (
        f"expected {expected}, got {got}: intermittent connectivity requires the device (rule 2), "
        "40 MB does not fit 100 / 4 = 25 MB but 40 / 4 = 10 MB does (rule 3), "
        "and a model on a device serves dynamically (rule 5)")


@pytest.mark.points(1)
@pytest.mark.hints(
    "Rule 2 lists the only three reasons to run on the device; none holds here (always connected, 300 ms, "
    "cloud_ok data).",
    "Rule 3 applies only when rule 2 requires the device: `device_memory_mb == 0` must not make a server-side "
    'workload "infeasible".',
    'Decide rule 2 first, then either rule 3 (device) or rule 4 (server), never both; here rule 4 gives "cloud" '
    'and rule 5 "static".',
)
def test_cloud_workload(learner):
    """A connected, relaxed workload with cloud data trains and serves in the cloud, static"""
    got = _fields(learner.place(dict(CLOUD)))
    expected = {"training": "cloud", "inference": "cloud", "serving": "static"}
    assert got == expected, (
        f"expected {expected}, got {got}: nothing requires the device (rule 2), so inference "
        "is in the cloud (rule 4), and 50,000 distinct inputs can be precomputed (rule 5)")


@pytest.mark.points(1)
@pytest.mark.hints(
    'Rules 1 and 4 both follow `data_residency`: "on_prem_only" data trains on-prem and, when nothing requires '
    "the device, is served on-prem.",
    "Rule 5's \"static\" needs both a server-side model and `distinct_inputs <= 1_000_000`; either one failing "
    'means "dynamic".',
    'Spell the values exactly: "on_prem" for training and inference (the residency value is "on_prem_only").',
)
def test_on_prem_workload(learner):
    """On-prem data trains and serves on-prem"""
    workload = dict(CLOUD, data_residency="on_prem_only", distinct_inputs=20_000_000)
    got = _fields(learner.place(workload))
    expected = {"training": "on_prem", "inference": "on_prem", "serving": "dynamic"}
    assert got == expected, (
        f"expected {expected}, got {got}: on-prem data trains on-prem (rule 1) and is served "
        "on-prem (rule 4); 20 million distinct inputs are too many to precompute (rule 5)")


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'reasons': the result needs a fourth key, `reasons`, beside training, inference and serving.",
    "Append a short string as each rule decides (any wording) and return the list: a non-empty `list` of `str`, "
    "not one string or a dict.",
)
def test_reasons_are_strings(learner):
    """reasons is a non-empty list of strings"""
    reasons = learner.place(dict(CLOUD)).get("reasons")
    assert isinstance(reasons, list) and reasons and all(isinstance(r, str) for r in reasons), (
        f"reasons must be a non-empty list of strings, got {reasons!r}")


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Invalid workloads': check each required key before using it, and raise `ValueError`, not `KeyError`, "
    "naming the key.",
    "Validate at the top of `place`, key by key, so the message can say which key is missing; a valid workload "
    "must still pass untouched.",
    "Loop over the six required keys; for one that is not in the workload, raise `ValueError` with a message "
    "that contains the key's name.",
)
def test_missing_key_is_named(learner):
    """A workload without connectivity raises ValueError naming it"""
    workload = {k: v for k, v in CLOUD.items() if k != "connectivity"}
    try:
        learner.place(dict(CLOUD))
    except LearnerError as exc:
        raise AssertionError(f"validation counts once place() accepts a valid workload, but it raised "
                             f"{exc.raw_type_name} on one (raising on every workload is not validation)") from None
    try:
        learner.place(workload)
    except LearnerError as exc:
        assert isinstance(exc, ValueError), f"a missing key must raise ValueError, not {exc.type_name}"
        assert "connectivity" in exc.message, (
            f"the ValueError must name the missing key 'connectivity'; its message was {exc.message!r}")
        return
    raise AssertionError("a workload without 'connectivity' must raise ValueError naming it, "
                         "but place() returned normally")
