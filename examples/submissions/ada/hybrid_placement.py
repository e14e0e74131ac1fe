"""Ada's placement: complete, written table-first."""

ALLOWED = {
    "connectivity": {"always", "intermittent", "none"},
    "data_residency": {"cloud_ok", "on_prem_only", "on_device_only"},
}
NUMERIC = ["latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs"]
TRAINING = {"on_device_only": "federated", "on_prem_only": "on_prem", "cloud_ok": "cloud"}


def _check(workload):
    for key, allowed in ALLOWED.items():
        if key not in workload:
            raise ValueError(f"missing key: {key}")
        if workload[key] not in allowed:
            raise ValueError(f"unknown value for {key}: {workload[key]!r}")
    for key in NUMERIC:
        if key not in workload:
            raise ValueError(f"missing key: {key}")
        if isinstance(workload[key], bool) or not isinstance(workload[key], (int, float)):
            raise ValueError(f"{key} is not a number")
        if workload[key] < 0:
            raise ValueError(f"{key} is negative")


def place(workload):
    _check(workload)
    residency = workload["data_residency"]
    training = TRAINING[residency]
    reasons = [f"training follows the data ({residency}): {training}"]

    must_run_on_device = (workload["connectivity"] != "always" or workload["latency_budget_ms"] < 100
                          or residency == "on_device_only")
    if must_run_on_device:
        budget = workload["device_memory_mb"] / 4
        size = workload["model_size_mb"]
        if workload["device_memory_mb"] <= 0:
            inference = "infeasible"
        elif size <= budget:
            inference = "edge"
        elif size / 4 <= budget:
            inference = "edge_quantized"
        else:
            inference = "infeasible"
        reasons.append(f"must run on the device: {inference}")
    else:
        inference = "on_prem" if residency == "on_prem_only" else "cloud"
        reasons.append(f"served from a server: {inference}")

    static = inference in ("cloud", "on_prem") and workload["distinct_inputs"] <= 1_000_000
    serving = "static" if static else "dynamic"
    reasons.append(f"serving is {serving}")
    return {"training": training, "inference": inference, "serving": serving, "reasons": reasons}
