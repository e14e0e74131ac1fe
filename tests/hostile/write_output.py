# Tries to overwrite the results and plant files in the output and course directories.
import json
import os

TARGETS = ["{{OUTPUT}}/write_output/results.json", "{{OUTPUT}}/planted.txt", "{{SOLUTIONS}}/planted.txt"]


def place(workload):
    wrote = []
    for target in TARGETS:
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as stream:
                json.dump({"score": 1000, "tests": []}, stream)
            wrote.append(target)
        except OSError:
            pass
    raise RuntimeError("ATTACK write_output WROTE " + " ".join(wrote) if wrote else "ATTACK write_output BLOCKED")
