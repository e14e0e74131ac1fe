"""grader.judging.kfp_ir: reading compiled KFP packages on the trusted side.

Packages are compiled here with kfp's real compiler from small pipelines
(trusted project code, not submissions), so these tests pin down what the
hidden tests rely on: sources resolved through condition, loop and
exit-handler groups, task settings read back as written, and clear errors
for anything that is not a pipeline package.
"""
# no `from __future__ import annotations`: KFP reads component annotations as types
from typing import List

import pytest

from grader.judging import kfp_ir
from grader.judging.run_report import RunReport, RunReportError

kfp = pytest.importorskip("kfp")
from kfp import compiler, dsl  # noqa: E402
from kfp.dsl import Input, Model, Output  # noqa: E402


@dsl.component(base_image="python:3.11")
def make(n: int, model: Output[Model]) -> float:
    return 1.0


@dsl.component(base_image="python:3.11")
def use(model: Input[Model], label: str) -> str:
    return label


@dsl.component(base_image="python:3.11")
def score(x: float) -> float:
    return x


@dsl.component(base_image="python:3.11")
def note(message: str) -> str:
    return message


@dsl.component(base_image="python:3.11")
def gather(xs: List[float], scores: List[float]) -> float:
    return 0.0


def _compile(pipeline, tmp_path) -> kfp_ir.Package:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return kfp_ir.load(path.read_bytes())


def test_condition_settings_and_flipped_comparison(tmp_path):
    """Resources, retries, caching and a `threshold <= output` condition read back resolved."""

    @dsl.pipeline(name="Gate Pipeline")
    def gate(n: int = 3, threshold: float = 0.5, label: str = "x"):
        made = make(n=n).set_caching_options(enable_caching=False)
        made.set_cpu_limit("500m").set_memory_limit("4") .set_retry(num_retries=3)
        with dsl.If(threshold <= made.outputs["Output"]):
            use(model=made.outputs["model"], label=label)

    package = _compile(gate, tmp_path)
    assert package.name == "gate-pipeline"
    assert package.defaults() == {"n": 3.0, "threshold": 0.5, "label": "x"}
    resources = package.resources("make")
    assert resources["cpu_limit"] == "500m" and resources["cpu_limit_cores"] == 0.5
    assert resources["memory_limit"] == "4" and resources["memory_limit_bytes"] == 4  # bytes: no unit
    assert package.retries("make") == 3 and package.retries("use") == 0
    assert package.caching("make") is False and package.caching("use") is True
    groups = package.enclosing("use")
    assert [kind for _, kind in groups] == ["condition"]
    (left, op, right), = package.condition_terms(groups[0][0])
    assert (left.kind, left.name, op, right.kind, right.producer, right.final_key) == \
        ("pipeline_input", "threshold", "<=", "task_output", "make", "Output")
    model = package.task("use").inputs["model"]
    assert (model.kind, model.producer, model.final_key) == ("task_output", "make", "model")
    assert package.interface("use") == {"inputs": {"model": "system.Model", "label": "STRING"},
                                        "outputs": {"Output": "STRING"}}


def test_loop_collected_and_exit_handler(tmp_path):
    """A loop at the root and one inside an exit handler both resolve their items and collected outputs."""

    @dsl.pipeline(name="loops")
    def loops(xs: List[float] = [1.0, 2.0]):
        with dsl.ParallelFor(xs, parallelism=3) as x:
            first = score(x=x)
        gather(xs=xs, scores=dsl.Collected(first.output))
        done = note(message="done")
        with dsl.ExitHandler(done):
            with dsl.ParallelFor(xs) as y:
                second = score(x=y)
            gather(xs=xs, scores=dsl.Collected(second.output))

    package = _compile(loops, tmp_path)
    scores = [t for t in package.find("score")]
    assert len(scores) == 2
    loops = [[g for g, k in package.enclosing(t.name) if k == "loop"][0] for t in scores]
    assert sorted(package.parallelism(loop) for loop in loops) == [0, 3]
    for task in scores:
        loop = [g for g, k in package.enclosing(task.name) if k == "loop"][0]
        items = package.loop_items(loop)
        assert (items.kind, items.name) == ("pipeline_input", "xs")
        assert task.inputs["x"].kind == "loop_item" and task.inputs["x"].of.name == "xs"
    for task in package.find("gather"):
        source = task.inputs["scores"]
        assert source.kind == "task_output" and source.final_key == "Output"
        assert source.producer in {t.name for t in scores}
    exit_task = package.find_one("note")
    assert exit_task.inputs["message"].value == "done"
    assert package.trigger_strategy(exit_task.name) == "ALL_UPSTREAM_TASKS_COMPLETED"
    assert any(package.group_kind(d) == "exit_handler" for d in package.dependencies(exit_task.name))
    with pytest.raises(kfp_ir.PackageError, match="2 times"):
        package.find_one("gather")
    with pytest.raises(kfp_ir.MissingTask, match="never calls"):
        package.find_one("concat")


@pytest.mark.parametrize("data, phrase", [
    (b"", "empty"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"key: [unclosed", "not valid YAML"),
    (b"- a\n- b\n", "not a mapping"),
    (b"a: &x [1]\nb: *x\n", "aliases"),
    (b"components: {}\n", "no pipelineInfo"),
    (b"pipelineInfo: {name: 3}\nroot: {dag: {tasks: 7}}\n", "does not follow the KFP pipeline spec"),
])
def test_malformed_packages_are_named(data, phrase):
    """Anything that is not a pipeline package raises PackageError with a message a learner can act on."""
    with pytest.raises(kfp_ir.PackageError, match=phrase):
        kfp_ir.load(data)


def test_quantities():
    """Kubernetes quantities: units change everything."""
    assert kfp_ir.memory_bytes("4G") == 4e9
    assert kfp_ir.memory_bytes("4Gi") == 4 * 2**30
    assert kfp_ir.memory_bytes("4000M") == 4e9
    assert kfp_ir.memory_bytes("4") == 4
    assert kfp_ir.memory_bytes("four") is None
    assert kfp_ir.cpu_cores("2") == 2 and kfp_ir.cpu_cores("1500m") == 1.5 and kfp_ir.cpu_cores(None) is None


def test_run_report_helpers():
    """Loop iterations are found by pattern and ordered by index; failures are explained without values."""
    run = RunReport.from_wire({
        "ok": False, "error": "RuntimeError: Pipeline 'p' finished with status FAILURE.",
        "failed_tasks": ["train-candidate"], "task_errors": {"train-candidate": "ValueError: secret 0.123"},
        "tasks": {"for-loop-7-iteration-10/train-candidate": {"parameters": {"Output": 2}},
                  "for-loop-7-iteration-2/train-candidate": {"parameters": {"Output": 1}},
                  "announce": {"parameters": {"Output": "done"}}}})
    assert [i for i, _ in run.loop("train-candidate")] == [2, 10]
    assert run.task("announce").parameters["Output"] == "done" == run.output("announce")
    assert run.task("train-candidate") is None and run.output("train-candidate") is None  # only loop iterations
    hidden = run.failure("running it")
    assert "the run failed" in hidden and "train-candidate" not in hidden  # which task failed may hang on inputs
    assert "secret" not in hidden and "0.123" not in hidden
    assert "secret 0.123" in run.failure("running it", hidden=False)
    named = RunReport.from_wire({"ok": False, "task_errors": {"concat": "NameError: name 'json' is not defined"},
                                 "diagnoses": {"concat": {"undefined": ["json"], "not_implemented": False}},
                                 "failed_tasks": ["concat"], "error": "RuntimeError: x"}).failure("running concat")
    assert "the component concat uses `json` without importing" in named
    assert "inside the component's function body" in named


@pytest.mark.parametrize("data, field", [
    ("not a report", "the report"),
    ({"error": None}, "ok"),
    ({"ok": True, "tasks": ["reverse"]}, "tasks"),
    ({"ok": True, "tasks": {"reverse": {"parameters": {"Output": 1}, "artifacts": {"m": {"content": "x"}}}}},
     "content"),
    ({"ok": False, "failed_tasks": "concat"}, "failed_tasks"),
    ({"ok": False, "task_errors": {"concat": 7}}, "task_errors"),
    ({"ok": False, "diagnoses": {"concat": {"undefined": "json"}}}, "undefined"),
])
def test_run_report_of_the_wrong_shape_is_refused_in_the_graders_words(data, field):
    """A report the runner sent in another shape is refused once, when decoded, naming the field only."""
    with pytest.raises(RunReportError, match="malformed run report") as caught:
        RunReport.from_wire(data)
    assert field in str(caught.value) and "not a report" not in str(caught.value).replace("the report", "")


def test_run_report_is_frozen_and_compile_failures_say_why():
    """Reports are read-only; a job that never compiled explains itself without the learner's text when hidden."""
    run = RunReport.from_wire({"ok": True, "tasks": {"concat": {"parameters": {"Output": "ab"},
                                                               "artifacts": {"m": {"metadata": {"accuracy": 1.0},
                                                                                   "content": b"{}"}}}}})
    assert run.artifact_bytes("concat", "m") == b"{}" and run.task("concat").metadata("m")["accuracy"] == 1.0
    assert run.artifact_bytes("concat", "other") is None and run.artifact_bytes("absent", "m") is None
    with pytest.raises(AttributeError):
        run.ok = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.tasks["concat"] = None  # type: ignore[index]
    broken = RunReport.not_compiled("concat", "CompileError: secret text from the learner")
    assert broken.stage == "compile" and not broken.ok
    assert "secret" not in broken.failure("running concat") and "an error" in broken.failure("running concat")
    assert "secret text" in broken.failure("running concat", hidden=False)
    assert "does not define `concat`" in RunReport.not_compiled("concat", "", missing=True).failure("running it")
