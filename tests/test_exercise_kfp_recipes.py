"""grader.recipes.kfp, driven directly (no sandbox): what the hidden tests get back from local runs.

The module under test here is a tiny pipeline written by this test (trusted
code); the end-to-end tests grade real submissions through the sandbox.
"""
import importlib.util
import sys
import textwrap
import time

import pytest

from grader.recipes import Context, resolve

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
''')


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kfp-recipe")
    (folder / "kfp_recipe_probe.py").write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("kfp_recipe_probe", folder / "kfp_recipe_probe.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kfp_recipe_probe"] = module  # components are found by module, as in the worker
    spec.loader.exec_module(module)
    scratch = folder / "scratch"
    scratch.mkdir()
    yield Context(module, scratch)
    sys.modules.pop("kfp_recipe_probe", None)


def test_watchdog_stops_an_endless_task_and_the_batch_goes_on(ctx):
    """A task running past its job's limit is killed and reported as timed out; the next job still runs."""
    started = time.monotonic()
    slow, failing, fine = resolve("kfp.run")(ctx, [
        {"component": "spin", "arguments": {"seconds": 120.0}, "timeout": 3},
        {"component": "uses_module_import", "arguments": {"x": "a"}},
        {"component": "shout", "arguments": {"x": "quiet"}},
    ])
    assert time.monotonic() - started < 60
    assert slow["timed_out"] and not slow["ok"] and "TimeoutError" in slow["error"]
    assert failing["task_errors"] == {"uses-module-import": "NameError: name 'json' is not defined"}
    assert not failing["timed_out"]
    assert fine["ok"] and fine["tasks"]["shout"]["parameters"] == {"Output": "QUIET"}
    assert fine["files"] == ["shout/executor_output.json"]


def test_a_flood_of_printed_lines_is_not_kept(ctx):
    """Printed text is scanned for feedback, never kept whole: a chatty task cannot fill the worker's memory."""
    run, = resolve("kfp.run")(ctx, [{"component": "chatty", "arguments": {"lines": 300_000}}])
    assert run["ok"] and run["tasks"]["chatty"]["parameters"] == {"Output": 300000}
    assert len(run["errors"]) <= 5
