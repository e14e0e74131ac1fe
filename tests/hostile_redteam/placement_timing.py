# Appended to the reference placement.py (tests/test_security_redteam.py does that):
# the answers are right, but every call sleeps in proportion to a hidden input, so the
# hidden test's duration in results.json spells out the hidden workloads it was given.
import time as _time

_honest_place = place


def place(workload: dict) -> dict:
    # ATTACK START
    try:
        _time.sleep(min(max(float(workload.get("model_size_mb", 0)), 0.0), 300.0) * 0.002)
    except (TypeError, ValueError):
        pass
    # ATTACK END
    return _honest_place(workload)
