"""Eli's placement, sent as a zip of the project folder: complete."""

CHOICES = {"connectivity": ("always", "intermittent", "none"),
           "data_residency": ("cloud_ok", "on_prem_only", "on_device_only")}
NUMBERS = ("latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs")


def place(workload):
    for key in (*CHOICES, *NUMBERS):
        if key not in workload:
            raise ValueError(f"{key} is required")
    for key, choices in CHOICES.items():
        if workload[key] not in choices:
            raise ValueError(f"{key} must be one of {choices}")
    for key in NUMBERS:
        value = workload[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{key} must be a non-negative number")

    data = workload["data_residency"]
    training = {"on_device_only": "federated", "on_prem_only": "on_prem"}.get(data, "cloud")
    device = workload["connectivity"] != "always" or workload["latency_budget_ms"] < 100 or data == "on_device_only"
    if device:
        memory, size = workload["device_memory_mb"], workload["model_size_mb"]
        if memory > 0 and size <= memory / 4:
            inference = "edge"
        elif memory > 0 and size / 4 <= memory / 4:
            inference = "edge_quantized"
        else:
            inference = "infeasible"
    else:
        inference = "on_prem" if data == "on_prem_only" else "cloud"
    serving = "static" if inference in ("cloud", "on_prem") and workload["distinct_inputs"] <= 1_000_000 else "dynamic"
    return {"training": training, "inference": inference, "serving": serving,
            "reasons": [f"training: {training}", f"inference: {inference}", f"serving: {serving}"]}
