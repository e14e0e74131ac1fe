# Raises on everything, naming every key, hoping the validation tests count it as validation.


def place(workload):
    raise ValueError("connectivity latency_budget_ms data_residency model_size_mb device_memory_mb distinct_inputs")
