"""Public tests for kfp_basic_pipeline: the lab's own example.

They compile your pipeline, look at the package, and run the pipeline once
locally with its defaults ("stres" + "sed"). The hidden tests check the same
things in more detail, on other inputs, and run each component on its own.
"""
import pytest

from grader.testing import LearnerError, kfp_ir


@pytest.fixture(scope="module")
def compiled(learner):
    """(package or None, problem or None) from your compile_pipeline."""
    try:
        path = learner.compile_pipeline(learner.path("public-basic.yaml"))
    except LearnerError as exc:
        return None, f"compile_pipeline raised {exc.type_name}: {exc.message}"
    try:
        return kfp_ir.load(learner.read_bytes("public-basic.yaml")), None
    except LearnerError:
        return None, f"compile_pipeline returned {path!r} but wrote no file at the path it was given"
    except kfp_ir.PackageError as exc:
        return None, f"the file compile_pipeline wrote is not a pipeline package: {exc}"


@pytest.fixture(scope="module")
def lab_run(learner, pipeline_runner):
    return kfp_ir.run_pipeline(learner, pipeline_runner, "basic_pipeline")


@pytest.mark.points(1)
@pytest.mark.hints(
    "`compile_pipeline` only runs KFP's compiler: if it raised, the cause is usually `basic_pipeline` itself, "
    "which needs `@dsl.pipeline` and a body that calls both components.",
    "Use the compiler call from README 'Compile and run' and write to exactly the `package_path` you are given, "
    "not to a fixed file name.",
    "`compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)`, then return "
    "`package_path`.",
)
def test_compile_writes_a_package(compiled):
    """compile_pipeline writes a YAML pipeline package"""
    package, problem = compiled
    assert package is not None, problem


@pytest.mark.points(1)
@pytest.mark.hints(
    "The README's table 'The contract' fixes the pipeline's name, its two parameters with their defaults, and one "
    "call of each component.",
    "Check the `name=` given to `@dsl.pipeline`, the default values in the function's signature, and that the "
    "body calls `concat` once and `reverse` once, nothing else.",
    'Decorator and signature as in the contract: `@dsl.pipeline(name="basic-pipeline")` over `def '
    'basic_pipeline(a: str = "stres", b: str = "sed")`.',
)
def test_package_shape(compiled):
    """The package holds basic-pipeline with the tasks concat and reverse"""
    package, problem = compiled
    assert package is not None, problem
    assert package.name == "basic-pipeline", (
        f"the pipeline is named {package.name!r}: give @dsl.pipeline the name 'basic-pipeline'")
    tasks = package.task_names()
    assert tasks == ["concat", "reverse"], (
        f"the pipeline's tasks are {tasks}; expected one call of concat and one of reverse")
    assert package.defaults() == {"a": "stres", "b": "sed"}, (
        f"the pipeline's parameter defaults are {package.defaults()}; expected a='stres', b='sed'")


@pytest.mark.points(2)
@pytest.mark.hints(
    "Run it yourself with `kfp.local` (README 'Compile and run') and run each component alone: which step gives "
    "the wrong value, or fails?",
    "A component runs alone from its own source, so any import it needs goes inside its body; `reverse` must "
    "receive `concat`'s output, `concat_task.output`.",
    "`concat` returns `a + b`; `reverse` returns `before` then `after`, i.e. `(a, a[::-1])` in that order; the "
    "pipeline calls `reverse(a=concat_task.output)`.",
)
def test_lab_example_runs_locally(lab_run):
    """Run locally with the defaults: stres + sed -> stressed -> desserts"""
    reverse = lab_run.task("reverse")
    assert lab_run.ok and reverse, lab_run.failure("running basic_pipeline()", hidden=False)
    joined = lab_run.output("concat")
    assert joined == "stressed", f"concat produced {joined!r} from 'stres' and 'sed'; expected 'stressed'"
    outputs = reverse.parameters
    assert outputs.get("after") == "desserts", (
        f"reverse's output 'after' is {outputs.get('after')!r}; expected 'desserts' (and 'before' = 'stressed')")
    assert outputs.get("before") == "stressed", (
        f"reverse's output 'before' is {outputs.get('before')!r}; expected 'stressed': return (a, a[::-1])")
