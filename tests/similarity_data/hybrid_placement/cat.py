from dataclasses import dataclass

KEYS = ["connectivity", "latency_budget_ms", "data_residency", "model_size_mb", "device_memory_mb",
        "distinct_inputs"]


@dataclass
class Workload:
    connectivity: str
    latency_budget_ms: float
    data_residency: str
    model_size_mb: float
    device_memory_mb: float
    distinct_inputs: int

    @classmethod
    def parse(cls, raw):
        missing = [k for k in KEYS if k not in raw]
        if missing:
            raise ValueError(f"{missing[0]} is required")
        if raw["connectivity"] not in ("always", "intermittent", "none"):
            raise ValueError("connectivity is not valid")
        if raw["data_residency"] not in ("cloud_ok", "on_prem_only", "on_device_only"):
            raise ValueError("data_residency is not valid")
        for k in KEYS:
            if k not in ("connectivity", "data_residency") and raw[k] < 0:
                raise ValueError(f"{k} must be >= 0")
        return cls(**{k: raw[k] for k in KEYS})

    def needs_device(self):
        return (self.connectivity in ("intermittent", "none") or self.latency_budget_ms < 100
                or self.data_residency == "on_device_only")


def place(workload: dict) -> dict:
    w = Workload.parse(workload)
    why = []
    if w.data_residency == "on_device_only":
        training = "federated"
    elif w.data_residency == "on_prem_only":
        training = "on_prem"
    else:
        training = "cloud"
    why.append("train " + training)
    if not w.needs_device():
        inference = "on_prem" if training == "on_prem" else "cloud"
    elif w.device_memory_mb == 0:
        inference = "infeasible"
    elif 4 * w.model_size_mb <= w.device_memory_mb:
        inference = "edge"
    elif w.model_size_mb <= w.device_memory_mb:
        inference = "edge_quantized"
    else:
        inference = "infeasible"
    why.append("infer " + inference)
    if inference in ("cloud", "on_prem") and w.distinct_inputs <= 1_000_000:
        serving = "static"
    else:
        serving = "dynamic"
    why.append("serve " + serving)
    return {"training": training, "inference": inference, "serving": serving, "reasons": why}
