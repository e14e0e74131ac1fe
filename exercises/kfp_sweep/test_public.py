"""Public tests for kfp_sweep.

They compile your pipeline, check that the sweep is a loop with a fan-in,
and run it once locally with its defaults. The hidden tests check the loop's
settings, the exit handler, other lists (ties included), a sweep that fails,
and each component on its own.
"""
import pytest

from grader.testing import kfp_ir


@pytest.fixture(scope="module")
def package(learner):
    return kfp_ir.learner_package(learner, "public-sweep.yaml")


@pytest.fixture(scope="module")
def default_run(learner, pipeline_runner):
    return kfp_ir.run_pipeline(learner, pipeline_runner, "sweep_pipeline")


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Fan-out' and 'Fan-in': `train_candidate` is called inside the `dsl.ParallelFor` block, `pick_best` "
    "once after that block.",
    "Mind the indentation: `pick_best(...)` sits at the level of the `with dsl.ParallelFor(...)` line, still "
    "inside the `dsl.ExitHandler` block, and `announce` is called once, before it.",
    'Shape: `exit_task = announce(message="sweep finished")`; under `with dsl.ExitHandler(exit_task):` first '
    "`with dsl.ParallelFor(learning_rates, parallelism=2) as rate:`, then `pick_best(...)`.",
)
def test_package_shape(package):
    """The package holds sweep-pipeline; train_candidate is in a loop, pick_best after it"""
    assert package.name == "sweep-pipeline", f"the pipeline is named {package.name!r}, not 'sweep-pipeline'"
    names = package.task_names()
    assert names == ["announce", "pick-best", "train-candidate"], (
        f"the pipeline's tasks are {names}; expected announce, pick-best and train-candidate")
    in_loop = [kind for _, kind in package.enclosing("train-candidate")]
    assert "loop" in in_loop, "train_candidate must be called inside `with dsl.ParallelFor(learning_rates, ...)`"
    assert "loop" not in [kind for _, kind in package.enclosing("pick-best")], (
        "pick_best must be called once, after the loop, not inside it")


@pytest.mark.points(2)
@pytest.mark.hints(
    "Run `sweep_pipeline()` locally and each component alone (README 'Try it locally'): "
    "`pick_best(learning_rates=[0.1, 0.01], scores=[0.5, 0.5]).output` must be 0.01.",
    "`train_candidate` needs `import math` inside its body; `pick_best` pairs `learning_rates[i]` with "
    "`scores[i]` and, on equal scores, keeps the smaller rate; `announce` returns its `message`.",
    "Pass the loop's scores as `scores=dsl.Collected(candidate.output)` after the loop, and compare rates only "
    "when scores are equal: the best score wins, the smaller rate breaks a tie.",
)
def test_default_sweep(default_run):
    """Run with the defaults: four scores, best rate 0.01 (tied with 0.1), announced"""
    run = default_run
    assert run.ok, run.failure("running sweep_pipeline()", hidden=False)
    scores = [t.output for _, t in run.loop("train-candidate")]
    assert scores == [0.775, 0.975, 0.975, 0.775], (
        f"the four candidates scored {scores}; expected [0.775, 0.975, 0.975, 0.775]")
    best = run.output("pick-best")
    assert best == 0.01, (
        f"pick_best returned {best}; 0.01 and 0.1 tie for the best score, and a tie goes to the smaller rate")
    message = run.output("announce")
    assert message == "sweep finished", f"announce returned {message!r}; expected 'sweep finished'"
