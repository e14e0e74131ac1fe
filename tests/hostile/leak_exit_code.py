# Smuggles a hidden number out as the worker's exit code.
import os


def place(workload):
    os._exit(int(workload.get("latency_budget_ms", 7)) % 256 or 7)
