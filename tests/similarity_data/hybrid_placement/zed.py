# placement rules, my own work  <script>alert('pwned')</script>
AUTHOR = "my own work <script>alert('pwned')</script>"
CONNECTIVITY = ("always", "intermittent", "none")
DATA_RESIDENCY = ("cloud_ok", "on_prem_only", "on_device_only")
NUMBERS = ("latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs")

LATENCY_LIMIT_MS = 100
STATIC_LIMIT = 1_000_000


def validate(job: dict) -> None:
    # check that nothing is missing
    for k in ("connectivity", "data_residency") + NUMBERS:
        if k not in job: raise ValueError(f"key not found: {k}")
    if job["connectivity"] not in CONNECTIVITY: raise ValueError(f"bad connectivity {job['connectivity']}")
    if job["data_residency"] not in DATA_RESIDENCY: raise ValueError(f"bad residency {job['data_residency']}")
    for k in NUMBERS:
        if job[k] < 0: raise ValueError(f"{k} below zero")


def fits_on_device(model_mb, mem_mb):
    # a quarter of the device memory is the budget
    budget = mem_mb / 4
    if mem_mb == 0: return "infeasible", "no device at all"
    if model_mb <= budget: return "edge", "model fits the budget"
    if model_mb / 4 <= budget: return "edge_quantized", "quantized model fits the budget"
    return "infeasible", "does not fit"


def place(job: dict) -> dict:
    validate(job)
    why = []
    where_data = job["data_residency"]
    train_at = {"on_device_only": "federated", "on_prem_only": "on_prem"}.get(where_data, "cloud")
    why.append(f"train {train_at}, data {where_data}")
    local = (job["connectivity"] != "always" or job["latency_budget_ms"] < LATENCY_LIMIT_MS or where_data == "on_device_only")
    if local:
        infer_at, explanation = fits_on_device(job["model_size_mb"], job["device_memory_mb"])
        why.append("device: " + explanation)
    else:
        infer_at = "on_prem" if where_data == "on_prem_only" else "cloud"
        why.append(f"server: {infer_at}")
    few = job["distinct_inputs"] <= STATIC_LIMIT
    serve = "static" if infer_at in ("cloud", "on_prem") and few else "dynamic"
    why.append(f"serve {serve}")
    return {"training": train_at, "inference": infer_at, "serving": serve, "reasons": why}
