import math

VALID_CONN = ["always", "intermittent", "none"]
VALID_RES = ["cloud_ok", "on_prem_only", "on_device_only"]

def place(workload):
    for required in ["connectivity", "latency_budget_ms", "data_residency", "model_size_mb",
                     "device_memory_mb", "distinct_inputs"]:
        if required not in workload:
            raise ValueError("missing " + required)
    conn, res = workload["connectivity"], workload["data_residency"]
    if conn not in VALID_CONN:
        raise ValueError("connectivity")
    if res not in VALID_RES:
        raise ValueError("data_residency")
    lat, size = workload["latency_budget_ms"], workload["model_size_mb"]
    mem, n = workload["device_memory_mb"], workload["distinct_inputs"]
    for label, number in [("latency_budget_ms", lat), ("model_size_mb", size), ("device_memory_mb", mem),
                          ("distinct_inputs", n)]:
        if number < 0 or math.isnan(number):
            raise ValueError(label)
    out = {"reasons": []}
    out["training"] = "federated" if res == "on_device_only" else ("on_prem" if res == "on_prem_only" else "cloud")
    out["reasons"].append("data residency decides training")
    if conn == "always" and lat >= 100 and res != "on_device_only":
        out["inference"] = "on_prem" if res == "on_prem_only" else "cloud"
        out["reasons"].append("a server can answer in time")
    else:
        cap = mem / 4
        if mem > 0 and size <= cap:
            out["inference"] = "edge"
        elif mem > 0 and size / 4 <= cap:
            out["inference"] = "edge_quantized"
        else:
            out["inference"] = "infeasible"
        out["reasons"].append("it has to run on the device")
    out["serving"] = "static" if out["inference"] in ("cloud", "on_prem") and n <= 1000000 else "dynamic"
    out["reasons"].append("serving follows inference and the input space")
    return out
