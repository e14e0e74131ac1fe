"""hybrid_placement: the reference earns full marks, the starter does not, and
realistic mistakes each lose the points of the test for their rule, with
feedback that names the rule without giving the hidden answer away.

Mistakes are made by editing the reference solution's text, several
independent mistakes per submission (each caught by a different test), so
that four gradings show fourteen mistakes.
"""
from __future__ import annotations

import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "hybrid_placement"
REFERENCE = ROOT / "solutions" / EXERCISE / "placement.py"
STARTER = ROOT / "exercises" / EXERCISE / "placement.py"

HIDDEN = {
    "test_training_follows_the_data", "test_connectivity_requires_the_device",
    "test_latency_budget_boundary", "test_on_device_data_requires_the_device",
    "test_quarter_of_device_memory", "test_quantized_or_infeasible", "test_no_device_is_infeasible",
    "test_server_side_inference", "test_static_serving_boundary", "test_on_device_serving_is_dynamic",
    "test_reasons_are_given", "test_missing_keys_raise_value_error",
    "test_unknown_values_raise_value_error", "test_negative_numbers_raise_value_error",
    "test_extra_keys_are_ignored",
}


def mutate(source: str, *edits: tuple[str, str]) -> str:
    """The reference with each ``old`` replaced by ``new``; every ``old`` must occur."""
    for old, new in edits:
        assert old in source, f"the reference no longer contains {old!r}: update this mutant"
        source = source.replace(old, new)
    return source


def hidden_failures(result) -> set[str]:
    names = set()
    for test in result.failed():
        if test.visibility == "hidden":
            names.add(test.nodeid.split("::")[1])
    return names


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    result = grade(EXERCISE, REFERENCE)
    assert result.refused is None and result.error is None, result.error or result.refused
    assert result.max_score > 0 and result.score == result.max_score, [
        (t.name, t.output) for t in result.failed()]
    assert {t.nodeid.split("::")[1] for t in result.tests if t.visibility == "hidden"} == HIDDEN


def test_starter_earns_less(grade):
    """The starter as shipped raises NotImplementedError and earns nothing."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    assert "NotImplementedError" in result.test("test_readme_example").output


def test_placement_needs_no_preload(course):
    """The exercise imports nothing heavy, which keeps a grading under 2 seconds."""
    meta = tomllib.loads((ROOT / "exercises" / EXERCISE / "exercise.toml").read_text())
    assert meta.get("preload", []) == []
    assert course.exercise(EXERCISE).functions == ["place"]


def test_off_by_one_boundaries_lose_points(grade_source):
    """Boundaries off by one (100 ms, a quarter of memory, one million inputs), a KeyError for a
    missing key and reasons given as one string each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ('if w["latency_budget_ms"] < LATENCY_LIMIT_MS:', 'if w["latency_budget_ms"] <= LATENCY_LIMIT_MS:'),
        ("elif size <= budget:", "elif size < budget:"),
        ('w["distinct_inputs"] <= STATIC_LIMIT', 'w["distinct_inputs"] < STATIC_LIMIT'),
        ('raise ValueError(f"workload is missing {key!r}")', "raise KeyError(key)"),
        ('"reasons": reasons}', '"reasons": "; ".join(reasons)}'),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_latency_budget_boundary", "test_quarter_of_device_memory",
        "test_static_serving_boundary", "test_missing_keys_raise_value_error", "test_reasons_are_given",
    }
    latency = result.test("test_latency_budget_boundary").output
    assert "100 ms (not under 100 ms)" in latency and "rule 2" in latency
    assert "'cloud'" not in latency  # the expected answer is not given away
    quarter = result.test("test_quarter_of_device_memory").output
    assert "rule 3" in quarter and "exactly a quarter fits" in quarter and "'edge'" not in quarter
    static = result.test("test_static_serving_boundary").output
    assert "exactly 1,000,000 included" in static and "rule 5" in static and "'static'" not in static
    assert "1000000" not in static  # the hidden input is not printed
    missing = result.test("test_missing_keys_raise_value_error").output
    assert "ValueError" in missing and "KeyError" in missing
    assert "non-empty list" in result.test("test_reasons_are_given").output
    assert result.test("test_missing_key_is_named").status == "failed"  # the public twin
    assert result.score < result.max_score


def test_device_rule_mistakes_lose_points(grade_source):
    """Edge chosen without a device, the quantized model measured against all of memory,
    static serving on a device, negative numbers and unknown values accepted, and extra keys
    rejected each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ('        if memory <= 0:\n            inference = "infeasible"\n'
         '            reasons.append("no device to run the model on")\n        elif size <= budget:',
         "        if memory == 0 or size <= budget:  # 0 means no memory limit"),
        ("elif size / 4 <= budget:", "elif size / 4 <= memory:"),
        ('if inference in ("cloud", "on_prem") and w["distinct_inputs"] <= STATIC_LIMIT:',
         'if w["distinct_inputs"] <= STATIC_LIMIT:'),
        ('        if value < 0:\n            raise ValueError(f"{key} must not be negative, got {value!r}")\n', ""),
        ("        if workload[key] not in allowed:\n", "        if False:\n"),
        ('    for key, allowed in (("connectivity", CONNECTIVITY)',
         '    extra = set(workload) - {"connectivity", "data_residency", *NUMBERS}\n'
         '    if extra:\n        raise ValueError(f"unexpected keys: {sorted(extra)}")\n'
         '    for key, allowed in (("connectivity", CONNECTIVITY)'),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_no_device_is_infeasible", "test_quantized_or_infeasible",
        "test_on_device_serving_is_dynamic", "test_negative_numbers_raise_value_error",
        "test_unknown_values_raise_value_error", "test_extra_keys_are_ignored",
    }
    no_device = result.test("test_no_device_is_infeasible").output
    assert "no device" in no_device and "nowhere to run" in no_device and "'infeasible'" not in no_device
    assert "'edge'" not in no_device  # the learner's own answer is not echoed
    quantized = result.test("test_quantized_or_infeasible").output
    assert "quantized to a quarter of its size" in quantized and "'infeasible'" not in quantized
    serving = result.test("test_on_device_serving_is_dynamic").output
    assert "on the device" in serving and "'static'" not in serving and "'dynamic'" not in serving
    negative = result.test("test_negative_numbers_raise_value_error").output
    assert "negative latency_budget_ms" in negative and "returned normally" in negative
    assert "unknown connectivity" in result.test("test_unknown_values_raise_value_error").output
    assert "outside the contract" in result.test("test_extra_keys_are_ignored").output
    assert result.test("test_readme_example").status == "failed"  # static on a device, in public too


def test_placement_rule_mistakes_lose_points(grade_source):
    """Training sent federated when offline, intermittent connectivity treated as connected and
    on-prem data served from the cloud each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ('    if w["data_residency"] == "on_device_only":\n        training = "federated"',
         '    if w["data_residency"] == "on_device_only" or w["connectivity"] != "always":\n'
         '        training = "federated"'),
        ('if w["connectivity"] != "always":\n        on_device.append',
         'if w["connectivity"] == "none":\n        on_device.append'),
        ('    elif w["data_residency"] == "on_prem_only":\n        inference = "on_prem"',
         '    elif w["data_residency"] == "on_prem":\n        inference = "on_prem"'),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_training_follows_the_data", "test_connectivity_requires_the_device",
        "test_server_side_inference",
    }
    training = result.test("test_training_follows_the_data").output
    assert "rule 1" in training and "training follows the data" in training
    connectivity = result.test("test_connectivity_requires_the_device").output
    assert "without constant connectivity" in connectivity and "must run on the device" in connectivity
    assert "'edge'" not in connectivity
    server = result.test("test_server_side_inference").output
    assert "rule 4" in server and "'on_prem_only'" in server and "'on_prem'" not in server
