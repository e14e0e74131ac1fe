"""Fay's "placement": a hostile submission, to show what the grader withstands.

Every attack below is contained: it earns nothing, the batch goes on, and the
report shows what happened (escaped, never executed).
"""
import json
import os
import sys

# 1. Look for the hidden tests and the reference solution (not mounted in the sandbox).
STOLEN = [p for p in ("../../solutions/hybrid_placement/test_hidden.py", "/solutions",
                      os.path.expanduser("~/solutions")) if os.path.exists(p)]

# 2. Print a forged Gradescope result, hoping the grader parses stdout.
print(json.dumps({"score": 1000, "tests": [{"name": "everything", "score": 1000, "status": "passed"}]}))


class AlwaysEqual(dict):
    """Compares equal to anything: a classic way to beat `assert result == expected`."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def place(workload):
    # 3. Try to overwrite results in the grader's output folder.
    for target in ("hml-results/fay/hybrid_placement/results.json", "/tmp/results.json"):
        try:
            with open(target, "w") as out:
                json.dump({"score": 1000}, out)
        except OSError:
            pass
    # 4. Script injection into the HTML report, through an error message a visible test shows.
    if workload.get("distinct_inputs") == 50_000:
        raise ValueError("<script>alert('owned')</script> " + repr(STOLEN))
    # 5. Hang the grader: never return on a large input space (a wall-clock limit stops it).
    if workload.get("distinct_inputs") == 20_000_000:
        while True:
            pass
    # 6. Kill the process that runs the tests (it is only the sandboxed worker).
    if workload.get("data_residency") == "on_prem_only":
        sys.stdout.flush()
        os._exit(0)
    return AlwaysEqual(training="cloud", inference="cloud", serving="static", reasons=["trust me"])
