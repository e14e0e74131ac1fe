"""Placement, written as a table of rules."""

ALLOWED = {
    "connectivity": {"always", "intermittent", "none"},
    "data_residency": {"cloud_ok", "on_prem_only", "on_device_only"},
}
NUMERIC = ["latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs"]
TRAINING_BY_RESIDENCY = {"cloud_ok": "cloud", "on_prem_only": "on_prem", "on_device_only": "federated"}


def _check(w):
    for name, values in ALLOWED.items():
        if name not in w or w[name] not in values:
            raise ValueError(name)
    for name in NUMERIC:
        if name not in w or not isinstance(w[name], (int, float)) or w[name] < 0:
            raise ValueError(name)


def _edge_variant(w, notes):
    mem = w["device_memory_mb"]
    if mem <= 0:
        notes.append("on-device needed but no device memory")
        return "infeasible"
    limit = mem / 4
    for variant, size in (("edge", w["model_size_mb"]), ("edge_quantized", w["model_size_mb"] / 4)):
        if size <= limit:
            notes.append(f"{variant}: {size} MB within {limit} MB")
            return variant
    notes.append("model too large for the device")
    return "infeasible"


def place(workload):
    _check(workload)
    notes = []
    training = TRAINING_BY_RESIDENCY[workload["data_residency"]]
    notes.append("training where the data may live")
    triggers = [workload["connectivity"] != "always", workload["latency_budget_ms"] < 100,
                workload["data_residency"] == "on_device_only"]
    if any(triggers):
        inference = _edge_variant(workload, notes)
    elif workload["data_residency"] == "on_prem_only":
        inference = "on_prem"
        notes.append("data stays on premises")
    else:
        inference = "cloud"
        notes.append("cloud serving is fine")
    static = inference in {"cloud", "on_prem"} and workload["distinct_inputs"] <= 10**6
    notes.append("static lookup" if static else "dynamic predictions")
    return dict(training=training, inference=inference, serving="static" if static else "dynamic", reasons=notes)
