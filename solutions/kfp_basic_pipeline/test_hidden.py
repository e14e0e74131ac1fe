"""Hidden tests for kfp_basic_pipeline.

The package is compiled in the sandbox by the learner's compile_pipeline
(falling back to kfp's compiler on the pipeline object, so a broken
compile_pipeline costs only its own test) and inspected here with kfp's
pipeline-spec protobufs. All local runs happen in ONE recipe call (one
pipeline run on hidden inputs, each component once on its own): every
kfp.local task costs a Python start and a kfp import.

Failure messages name the problem, never the hidden inputs or outputs.
"""
import pytest

from grader.testing import kfp_ir

PIPELINE_INPUTS = {"a": "Kube", "b": "flow on Vertex é"}
CONCAT_INPUTS = {"a": "hybrid ", "b": "ML systems"}
REVERSE_INPUT = "portable, composable"
PIPELINE_SECONDS = 30     # per local run: the reference needs about 1 s; an endless loop is stopped
COMPONENT_SECONDS = 20


def _budget(jobs: list) -> float:
    return sum(job["timeout"] for job in jobs) + 60


@pytest.fixture(scope="module")
def compiled(learner):
    return kfp_ir.compile_learner_package(learner, "basic_pipeline", "hidden-basic.yaml")


@pytest.fixture(scope="module")
def package(compiled):
    assert compiled.package is not None, compiled.package_problem or compiled.compile_problem
    return compiled.package


@pytest.fixture(scope="module")
def runs(learner, pipeline_runner):
    pipeline, component = {"timeout": PIPELINE_SECONDS}, {"timeout": COMPONENT_SECONDS}
    jobs = [
        dict(pipeline, pipeline="basic_pipeline", arguments=PIPELINE_INPUTS),
        dict(component, component="concat", arguments=CONCAT_INPUTS),
        dict(component, component="reverse", arguments={"a": REVERSE_INPUT}),
    ]
    pipeline_run, concat_run, reverse_run = kfp_ir.run_jobs(learner, pipeline_runner, jobs, _budget(jobs))
    return {"pipeline": pipeline_run, "concat": concat_run, "reverse": reverse_run}


# ------------------------------------------------------------------ the package

@pytest.mark.points(1)
def test_compile_pipeline(compiled):
    """compile_pipeline writes the package to package_path and returns that path"""
    assert compiled.compile_problem is None, compiled.compile_problem


@pytest.mark.points(1)
def test_pipeline_name(package):
    """The pipeline is named basic-pipeline"""
    assert package.name == "basic-pipeline", (
        "the compiled pipeline's name is not 'basic-pipeline': set it with @dsl.pipeline(name=...)")


@pytest.mark.points(1)
def test_tasks(package):
    """The pipeline has exactly two tasks, concat and reverse"""
    names = package.task_names(include_groups=True)
    assert names == ["concat", "reverse"], (
        f"the pipeline's tasks are {names}: call concat once and reverse once, nothing else")


@pytest.mark.points(2)
def test_component_interfaces(package):
    """concat and reverse have the contract's inputs and outputs"""
    concat = package.interface(package.find_one("concat").name)
    assert concat == {"inputs": {"a": "STRING", "b": "STRING"}, "outputs": {"Output": "STRING"}}, (
        f"concat's interface is {concat}: it takes a: str and b: str and returns str")
    reverse = package.interface(package.find_one("reverse").name)
    expected = {"inputs": {"a": "STRING"}, "outputs": {"after": "STRING", "before": "STRING"}}
    assert reverse == expected, (
        f"reverse's interface is {reverse}: it takes a: str and returns "
        "NamedTuple('outputs', [('before', str), ('after', str)])")


@pytest.mark.points(2)
def test_data_edges(package):
    """concat reads the pipeline's a and b; reverse reads concat's output"""
    concat = package.find_one("concat")
    a, b = concat.inputs.get("a"), concat.inputs.get("b")
    assert a and a.kind == "pipeline_input" and a.name == "a" and b and b.kind == "pipeline_input" \
        and b.name == "b", "concat must be called as concat(a=a, b=b) with the pipeline's own parameters"
    reverse = package.find_one("reverse")
    source = reverse.inputs.get("a")
    assert source is not None and source.kind == "task_output" and source.producer == concat.name \
        and source.final_key == "Output", (
            "reverse's input a must be concat's output (reverse(a=concat_task.output)): "
            "that reference is the data edge concat -> reverse")


@pytest.mark.points(1)
def test_parameter_defaults(package):
    """The pipeline parameters a and b are strings defaulting to the lab's stres and sed"""
    params = package.parameters()
    assert sorted(params) == ["a", "b"], f"the pipeline's parameters are {sorted(params)}; expected a and b"
    for name, default in (("a", "stres"), ("b", "sed")):
        assert params[name]["type"] == "STRING", f"pipeline parameter {name} must be annotated str"
        assert params[name].get("default") == default, (
            f"pipeline parameter {name} must default to {default!r}, as in the lab")


# ------------------------------------------------------------------ local runs

@pytest.mark.points(3)
def test_pipeline_run_on_other_inputs(runs):
    """Run locally on other inputs: reverse's after is the mirror of a + b"""
    run = runs["pipeline"]
    reverse = run.task("reverse")
    assert run.ok and reverse, run.failure("running basic_pipeline on other inputs")
    expected = (PIPELINE_INPUTS["a"] + PIPELINE_INPUTS["b"])[::-1]
    assert reverse.parameters.get("after") == expected, (
        "on other inputs, reverse's output 'after' is not the mirror image of a + b: "
        "check that concat gets a then b and that reverse gets concat's output")


@pytest.mark.points(1)
def test_pipeline_run_intermediate_values(runs):
    """Run locally on other inputs: concat's output and reverse's before are a + b"""
    run = runs["pipeline"]
    concat, reverse = run.task("concat"), run.task("reverse")
    assert run.ok and concat and reverse, run.failure("running basic_pipeline on other inputs")
    joined = PIPELINE_INPUTS["a"] + PIPELINE_INPUTS["b"]
    assert concat.output == joined, "on other inputs, concat's output is not a + b"
    assert reverse.parameters.get("before") == joined, (
        "on other inputs, reverse's output 'before' is not its input unchanged")


@pytest.mark.points(2)
def test_concat_alone(runs):
    """concat run on its own joins its inputs"""
    run = runs["concat"]
    task = run.task("concat")
    assert run.ok and task, run.failure("running concat on its own")
    assert task.output == CONCAT_INPUTS["a"] + CONCAT_INPUTS["b"], (
        "concat run on its own does not return a + b")


@pytest.mark.points(2)
def test_reverse_alone(runs):
    """reverse run on its own returns before and after, in that order"""
    run = runs["reverse"]
    task = run.task("reverse")
    assert run.ok and task, run.failure("running reverse on its own")
    outputs = task.parameters
    if outputs.get("before") == REVERSE_INPUT[::-1] and outputs.get("after") == REVERSE_INPUT:
        raise AssertionError("reverse returns its values in the wrong order: the NamedTuple fields are "
                             "(before, after), so return (a, a[::-1])")
    assert outputs.get("after") == REVERSE_INPUT[::-1], "reverse run on its own: 'after' is not its input reversed"
    assert outputs.get("before") == REVERSE_INPUT, "reverse run on its own: 'before' is not its input unchanged"
