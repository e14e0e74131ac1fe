# Run by test_security_redteam.py as a stand-in for the trusted pytest process: it starts
# one Landlock worker on daemon.py, has it leave a daemon, prints both pids, then waits to
# be SIGKILLed (as grader.grading.run._kill does to a pytest past RUN_TIMEOUT, or on cancel).
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from grader.sandbox.launch import Sandbox  # noqa: E402
from grader.sandbox.proxy import Worker, WorkerSpec  # noqa: E402

worker = Worker(WorkerSpec(module_dir=Path(sys.argv[2]), module_name="daemon", sandbox=Sandbox.LANDLOCK))
worker.wait_ready()
daemon = worker.request({"op": "call", "name": "leave_daemon", "args": [60], "kwargs": {}})
print(json.dumps({"worker": worker.process.pid, "daemon": daemon}), flush=True)
time.sleep(120)
