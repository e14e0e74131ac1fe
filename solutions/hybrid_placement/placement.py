# %% [markdown]
# # Where to train, where to serve (reference solution)
#
# `place(workload)` applies the rules of the statement in order: training
# follows the data, inference follows connectivity, latency and data, and
# serving is static only for a server-side model with a bounded input space.

# %%
CONNECTIVITY = ("always", "intermittent", "none")
DATA_RESIDENCY = ("cloud_ok", "on_prem_only", "on_device_only")
NUMBERS = ("latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs")

LATENCY_LIMIT_MS = 100
STATIC_LIMIT = 1_000_000


def _validated(workload: dict) -> dict:
    if not isinstance(workload, dict):
        raise ValueError("workload must be a dict")
    for key, allowed in (("connectivity", CONNECTIVITY), ("data_residency", DATA_RESIDENCY)):
        if key not in workload:
            raise ValueError(f"workload is missing {key!r}")
        if workload[key] not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {workload[key]!r}")
    for key in NUMBERS:
        if key not in workload:
            raise ValueError(f"workload is missing {key!r}")
        value = workload[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number, not {value!r}")
        if value < 0:
            raise ValueError(f"{key} must not be negative, got {value!r}")
    return {key: workload[key] for key in ("connectivity", "data_residency") + NUMBERS}


# %%
def place(workload: dict) -> dict:
    w = _validated(workload)
    reasons = []

    if w["data_residency"] == "on_device_only":
        training = "federated"
        reasons.append("data never leaves the device: train federated")
    elif w["data_residency"] == "on_prem_only":
        training = "on_prem"
        reasons.append("data must stay on premises: train on-prem")
    else:
        training = "cloud"
        reasons.append("data may go to the cloud: train in the cloud")

    on_device = []
    if w["connectivity"] != "always":
        on_device.append(f"connectivity is {w['connectivity']}")
    if w["latency_budget_ms"] < LATENCY_LIMIT_MS:
        on_device.append(f"latency budget {w['latency_budget_ms']} ms is under {LATENCY_LIMIT_MS} ms")
    if w["data_residency"] == "on_device_only":
        on_device.append("data is on-device only")

    if on_device:
        reasons.append("the model must run on the device: " + "; ".join(on_device))
        memory, size = w["device_memory_mb"], w["model_size_mb"]
        budget = memory / 4
        if memory <= 0:
            inference = "infeasible"
            reasons.append("no device to run the model on")
        elif size <= budget:
            inference = "edge"
            reasons.append("the model fits a quarter of device memory")
        elif size / 4 <= budget:
            inference = "edge_quantized"
            reasons.append("only the quantized model fits a quarter of device memory")
        else:
            inference = "infeasible"
            reasons.append("even the quantized model is too large for the device")
    elif w["data_residency"] == "on_prem_only":
        inference = "on_prem"
        reasons.append("connected, relaxed latency, on-prem data: serve on-prem")
    else:
        inference = "cloud"
        reasons.append("connected, relaxed latency: serve in the cloud")

    if inference in ("cloud", "on_prem") and w["distinct_inputs"] <= STATIC_LIMIT:
        serving = "static"
        reasons.append("few enough distinct inputs to precompute every prediction")
    else:
        serving = "dynamic"
        reasons.append("predictions are computed on demand")

    return {"training": training, "inference": inference, "serving": serving, "reasons": reasons}
