CONNECTIVITY = ("always", "intermittent", "none")
DATA_RESIDENCY = ("cloud_ok", "on_prem_only", "on_device_only")
NUMBERS = ("latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs")

LATENCY_LIMIT_MS = 100
STATIC_LIMIT = 1_000_000


def validate(workload: dict) -> None:
    # every key must be there before anything else is looked at
    for key in ("connectivity", "data_residency") + NUMBERS:
        if key not in workload:
            raise ValueError(f"missing key: {key}")
    if workload["connectivity"] not in CONNECTIVITY:
        raise ValueError(f"connectivity: unknown value {workload['connectivity']}")
    if workload["data_residency"] not in DATA_RESIDENCY:
        raise ValueError(f"data_residency: unknown value {workload['data_residency']}")
    for key in NUMBERS:
        if workload[key] < 0:
            raise ValueError(f"{key} is negative")


def device_fit(size, memory):
    quarter = memory / 4
    if memory == 0:
        return "infeasible", "there is no device"
    if size <= quarter:
        return "edge", "fits in a quarter of the memory"
    if size / 4 <= quarter:
        return "edge_quantized", "fits once quantized to int8"
    return "infeasible", "too big even when quantized"


def place(workload: dict) -> dict:
    validate(workload)
    reasons = []

    residency = workload["data_residency"]
    training = {"on_device_only": "federated", "on_prem_only": "on_prem"}.get(residency, "cloud")
    reasons.append(f"training: {training} because data is {residency}")

    must_be_local = (workload["connectivity"] != "always"
                     or workload["latency_budget_ms"] < LATENCY_LIMIT_MS
                     or residency == "on_device_only")
    if must_be_local:
        inference, why = device_fit(workload["model_size_mb"], workload["device_memory_mb"])
        reasons.append("on device: " + why)
    else:
        inference = "on_prem" if residency == "on_prem_only" else "cloud"
        reasons.append(f"server side: {inference}")

    small_space = workload["distinct_inputs"] <= STATIC_LIMIT
    serving = "static" if inference in ("cloud", "on_prem") and small_space else "dynamic"
    reasons.append(f"serving is {serving}")
    return {"training": training, "inference": inference, "serving": serving, "reasons": reasons}
