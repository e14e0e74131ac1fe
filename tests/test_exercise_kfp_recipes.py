"""The pipeline runner's recipe (grader.sandbox.recipes.kfp_local), driven directly: what hidden tests get back from runs.

The components here are written by this test and compiled in this process;
the packages are then run as the pipeline runner runs them (without its
sandbox). End-to-end and hostile tests grade real submissions through it.
"""
import importlib.util
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox.recipes import Context, resolve

pytest.importorskip("kfp")

SOURCE = textwrap.dedent('''
    import json
    from kfp import dsl

    @dsl.component(base_image="python:3.11")
    def spin(seconds: float) -> str:
        import time
        deadline = time.time() + seconds
        while time.time() < deadline:
            pass
        return "done"

    @dsl.component(base_image="python:3.11")
    def uses_module_import(x: str) -> str:
        return json.dumps(x)

    @dsl.component(base_image="python:3.11")
    def chatty(lines: int) -> int:
        for i in range(lines):
            print("ValueError: not really, line", i)
        return lines

    @dsl.component(base_image="python:3.11")
    def shout(x: str) -> str:
        print("Output: a printed value is not an output")
        return x.upper()

    @dsl.component(base_image="python:3.11")
    def leave_a_daemon(x: str) -> str:
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(30)
            os._exit(0)
        return x

    @dsl.component(base_image="python:3.11")
    def reads_environment(name: str) -> str:
        import os
        return os.environ.get(name, "<unset>")

    @dsl.component(base_image="python:3.11")
    def plant(x: str) -> str:
        import json as json_module, os, sys, tempfile
        import kfp
        kfp.hml_planted = True
        json_module.hml_planted = True
        os.environ["HML_PLANTED"] = "yes"
        sys.path.insert(0, tempfile.gettempdir())
        with open(os.path.join(tempfile.gettempdir(), "hml_planted.py"), "w") as module:
            module.write("planted = True")
        return x

    @dsl.component(base_image="python:3.11")
    def observe(x: str) -> str:
        import importlib.util, json as json_module, os
        import kfp
        with open(f"/proc/{os.getppid()}/stat") as stat:  # the shell's parent (forked: the task parent's)
            grandparent = int(stat.read().rsplit(")", 1)[1].split()[1])
        return json_module.dumps({"kfp": hasattr(kfp, "hml_planted"), "json": hasattr(json_module, "hml_planted"),
                                  "environment": os.environ.get("HML_PLANTED"),
                                  "module": importlib.util.find_spec("hml_planted") is not None,
                                  "grandparent": grandparent})

    @dsl.component(base_image="python:3.11")
    def kill_parent(x: str) -> str:
        import os, signal
        with open(f"/proc/{os.getppid()}/stat") as stat:
            grandparent = int(stat.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{grandparent}/cmdline", "rb") as cmdline:
            if b"task_parent" in cmdline.read():  # never the runner, were this task not forked
                os.kill(grandparent, signal.SIGKILL)
        return x

    @dsl.component(base_image="python:3.11")
    def exits_at_shutdown(x: str) -> str:
        import atexit, os
        atexit.register(os._exit, 3)
        return x

    @dsl.component(base_image="python:3.11")
    def starts_a_session(x: str) -> str:
        import os
        os.setsid()
        return x

    @dsl.pipeline(name="plant-then-observe")
    def plant_then_observe():
        observe(x=plant(x="a").output)
''')


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Each component compiled alone, as the learner's worker compiles it: name -> YAML bytes."""
    from kfp import compiler

    folder = tmp_path_factory.mktemp("kfp-recipe")
    (folder / "kfp_recipe_probe.py").write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("kfp_recipe_probe", folder / "kfp_recipe_probe.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kfp_recipe_probe"] = module
    spec.loader.exec_module(module)
    found = {}
    for name in ("spin", "uses_module_import", "chatty", "shout", "leave_a_daemon", "reads_environment", "observe",
                 "kill_parent", "plant_then_observe", "exits_at_shutdown", "starts_a_session"):
        compiler.Compiler().compile(getattr(module, name), str(folder / f"{name}.yaml"))
        found[name] = (folder / f"{name}.yaml").read_bytes()
    sys.modules.pop("kfp_recipe_probe", None)
    return found


@pytest.fixture
def run(packages, tmp_path):
    ctx = Context(None, tmp_path, pid_namespace=False)

    def go(*jobs):
        return resolve("kfp_local.run")(ctx, [dict(job, package=packages[job.pop("name")]) for job in jobs])

    return go


def test_a_stuck_task_is_stopped_and_the_next_job_still_runs(run):
    """A task running past its job's limit is killed and reported as timed out; the next job still runs."""
    started = time.monotonic()
    slow, fine = run({"name": "spin", "arguments": {"seconds": 120.0}, "timeout": 3},
                     {"name": "shout", "arguments": {"x": "quiet"}})
    assert time.monotonic() - started < 60
    assert slow["timed_out"] and not slow["ok"] and "TimeoutError" in slow["error"]
    assert fine["ok"] and fine["tasks"] == {"shout": {"parameters": {"Output": "QUIET"}, "artifacts": {},
                                                     "malformed": False}}


def test_a_component_that_is_not_self_contained_is_diagnosed_from_its_source(run):
    """The missing module-level import is found in the compiled source, not in what the task printed."""
    failing, = run({"name": "uses_module_import", "arguments": {"x": "a"}})
    assert not failing["ok"] and failing["failed_tasks"] == ["uses-module-import"]
    assert failing["diagnoses"] == {"uses-module-import": {"undefined": ["json"], "annotations": [],
                                                           "not_implemented": False}}
    assert failing["task_errors"] == {"uses-module-import": "NameError: name 'json' is not defined"}


def test_a_flood_of_printed_lines_is_not_kept(run):
    """Printed text is read, never kept whole: a chatty task cannot fill the runner's memory."""
    chatty, = run({"name": "chatty", "arguments": {"lines": 300_000}})
    assert chatty["ok"] and chatty["tasks"]["chatty"]["parameters"] == {"Output": 300000}


def test_a_daemon_left_by_a_task_is_killed_when_the_task_ends(packages, tmp_path):
    """A process a task leaves behind (even in a session of its own) cannot act after the task.

    Run in a child process: the runner makes itself a subreaper, which this test process must not become.
    """
    (tmp_path / "daemon.yaml").write_bytes(packages["leave_a_daemon"])
    script = textwrap.dedent(f"""
        import os, pathlib, signal
        from grader.sandbox.recipes import Context, resolve
        from grader.sandbox.recipes import kfp_local
        package = pathlib.Path({str(tmp_path / "daemon.yaml")!r}).read_bytes()
        report, = resolve("kfp_local.run")(Context(None, pathlib.Path({str(tmp_path)!r}), pid_namespace=False),
                                           [{{"package": package, "arguments": {{"x": "kept"}}}}])
        print("OK" if report["ok"] else "FAILED")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[1]))
    assert done.stdout.split() == ["OK"], done.stdout + done.stderr
    assert not _processes_mentioning(str(tmp_path))


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_tasks_get_the_runners_environment_only(run, monkeypatch):
    """Nothing set in the runner's environment (say, by a learner's PYTHONPATH) reaches a task."""
    monkeypatch.setenv("PYTHONPATH", "/planted")
    monkeypatch.setenv("HML_PLANTED", "yes")
    planted, safe_path = run({"name": "reads_environment", "arguments": {"name": "HML_PLANTED"}},
                             {"name": "reads_environment", "arguments": {"name": "PYTHONSAFEPATH"}})
    assert planted["tasks"]["reads-environment"]["parameters"] == {"Output": "<unset>"}
    assert safe_path["tasks"]["reads-environment"]["parameters"] == {"Output": "1"}


def test_a_task_leaves_nothing_in_what_the_next_task_is_forked_from(run):
    """Tasks are forks of the task parent: what one task changes (a module in memory, the environment, the
    import path, a module file in its temporary folder) is not there in the next."""
    from grader.sandbox.recipes import kfp_local

    report, = run({"name": "plant_then_observe"})
    assert report["ok"], report
    seen = json.loads(report["tasks"]["observe"]["parameters"]["Output"])
    assert kfp_local._tasks is not None and seen.pop("grandparent") == kfp_local._tasks.process.pid  # forked
    assert seen == {"kfp": False, "json": False, "environment": None, "module": False}


def test_a_task_that_kills_the_task_parent_fails_and_the_rest_start_cold(run):
    """Killing the task parent costs the task that did it, nothing else: later tasks run as new processes."""
    from grader.sandbox.recipes import kfp_local

    killed, after = run({"name": "kill_parent", "arguments": {"x": "a"}}, {"name": "observe", "arguments": {"x": "b"}})
    assert not killed["ok"] and killed["failed_tasks"] == ["kill-parent"]
    assert kfp_local._tasks is None  # found gone when the next task asked for it, and dropped
    assert after["ok"], after
    assert json.loads(after["tasks"]["observe"]["parameters"]["Output"])["kfp"] is False


def test_a_forked_task_starts_and_ends_as_a_new_interpreter_would(run):
    """A task forked from the task parent may start a session of its own (the shell leads the one it is in),
    and its shutdown runs as Python's does: an atexit handler that ends the process badly fails the task."""
    from grader.sandbox.recipes import kfp_local

    session, shutdown = run({"name": "starts_a_session", "arguments": {"x": "a"}},
                            {"name": "exits_at_shutdown", "arguments": {"x": "b"}})
    assert kfp_local._tasks is not None  # both were forked
    assert session["ok"] and session["tasks"]["starts-a-session"]["parameters"] == {"Output": "a"}
    assert not shutdown["ok"] and shutdown["failed_tasks"] == ["exits-at-shutdown"]
