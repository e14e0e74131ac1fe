# Compiled by tests/test_security.py in the trusted process and run in the real pipeline runner:
# a component that reports what a task can reach of the runner and the grader.
from kfp import dsl


@dsl.component(base_image="python:3.11")
def probe(grader_dir: str, solutions_dir: str) -> str:
    import json
    import os
    seen = {"runner_found": False, "runner_mem": [], "runner_fds": [], "runner_environ": [],
            "hidden_listed": {}, "solutions": os.path.exists(solutions_dir), "shim_written": False,
            "shim_exists": False}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                line = cmd.read()
        except OSError:
            continue
        if b"grader.sandbox.server" not in line or b"def probe(" in line:  # the task's own shells quote this source
            continue
        seen["runner_found"] = True
        for key, action in (("runner_mem", lambda: open(f"/proc/{entry}/mem", "rb").read(1)),
                            ("runner_fds", lambda: os.listdir(f"/proc/{entry}/fd")),
                            ("runner_environ", lambda: open(f"/proc/{entry}/environ", "rb").read())):
            try:
                action()
                seen[key].append("OPEN")
            except OSError as exc:
                seen[key].append(type(exc).__name__)
    seen["hidden_read"] = {}
    hidden = os.path.join(grader_dir, "judging")
    seen["hidden_listed"]["judging"] = sorted(os.listdir(hidden)) if os.path.isdir(hidden) else None
    for name in ("__init__.py", "kfp_ir.py", "evaluators/__init__.py", "evaluators/tflite.py"):
        try:
            with open(os.path.join(hidden, name), "rb") as source:
                source.read(1)
            seen["hidden_read"][f"judging/{name}"] = "OPEN"
        except OSError as exc:
            seen["hidden_read"][f"judging/{name}"] = type(exc).__name__
    shim = os.path.join(grader_dir, "sandbox", "recipes", "pip_shim", "pip")
    seen["shim_exists"] = os.path.isdir(shim)
    try:
        with open(os.path.join(shim, "planted.py"), "w") as out:
            out.write("planted")
        seen["shim_written"] = True
    except OSError:
        pass
    return json.dumps(seen)
