"""Ben's placement: partly right.

Known gaps (left in on purpose for the demo): no input validation, the
latency rule uses <= 100 instead of < 100, and quantization is never tried.
"""


def place(workload):
    residency = workload["data_residency"]
    if residency == "on_device_only":
        training = "federated"
    elif residency == "on_prem_only":
        training = "on_prem"
    else:
        training = "cloud"

    if workload["connectivity"] != "always" or workload["latency_budget_ms"] <= 100 \
            or residency == "on_device_only":
        fits = 0 < workload["model_size_mb"] <= workload["device_memory_mb"] / 4
        inference = "edge" if fits else "infeasible"
    elif residency == "on_prem_only":
        inference = "on_prem"
    else:
        inference = "cloud"

    serving = "static" if inference in ("cloud", "on_prem") and workload["distinct_inputs"] <= 1_000_000 \
        else "dynamic"
    return {"training": training, "inference": inference, "serving": serving,
            "reasons": ["rules of thumb from the lecture"]}
