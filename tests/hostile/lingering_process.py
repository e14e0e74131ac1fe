# Leaves a process behind that later tries to rewrite results.
import subprocess
import sys

LATE = "{{OUTPUT}}/lingering_process/results.json"


def place(workload):
    script = ("import time, json\n"
              "time.sleep(4)  # hml-lingering-token\n"
              f"open({LATE!r}, 'w').write(json.dumps({{'score': 1000}}))\n")
    subprocess.Popen([sys.executable, "-c", script, "hml-lingering-token"], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"training": "nowhere"}
