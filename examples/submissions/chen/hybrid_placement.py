"""Chen's placement: does not even parse (a missing closing bracket)."""


def place(workload):
    training = {"on_device_only": "federated", "on_prem_only": "on_prem"}.get(workload["data_residency"], "cloud"
    return {"training": training, "inference": "cloud", "serving": "static", "reasons": ["todo"]}
