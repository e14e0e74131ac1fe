"""Hidden tests for kfp_sweep.

The IR (the loop over learning_rates, its parallelism limit, the collected
scores, the exit handler and its trigger policy) is read from the package
the learner's compile_pipeline writes. Behaviour comes from kfp.local runs,
all in ONE recipe call: the sweep on a hidden list whose best score is a tie
(the smaller rate listed first; pick_best alone gets a tie listed larger rate
first), the sweep on a list with a non-positive rate (the body fails; the exit
task must still run), and each component alone.
Expected values are recomputed here from the specification.

Failure messages name the problem, never the hidden lists or values.
"""
import math

import pytest

from grader.testing import kfp_ir

TOL = 1e-9
TIE_SWEEP = [0.01, 0.3, 0.1, 0.003]          # 0.01 and 0.1 tie for the best score; the smaller comes first
# (PICK_ALONE lists its tie larger first: together they tell the tie rule from "first wins" and "last wins")
FAILING_SWEEP = [0.05, -1.0]                 # log10 of a negative rate fails: the body fails
CANDIDATE_ALONE = 0.0004
PICK_ALONE = {"learning_rates": [0.3, 0.2, 0.004, 0.02], "scores": [-0.5, -0.25, -0.9, -0.25]}
MESSAGE_ALONE = "exit handlers run last"
PIPELINE_SECONDS = 30     # per local run: the reference needs about 1 s; an endless loop is stopped
COMPONENT_SECONDS = 20


def _budget(jobs: list) -> float:
    return sum(job["timeout"] for job in jobs) + 60


def spec_score(rate: float) -> float:
    return round(1.0 - (math.log10(rate) + 1.5) ** 2 / 10.0, 6)


def spec_best(rates: list, scores: list) -> float:
    top = max(scores)
    return min(r for r, s in zip(rates, scores) if s == top)


def larger_on_tie(rates: list, scores: list) -> float:
    top = max(scores)
    return max(r for r, s in zip(rates, scores) if s == top)


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def compiled(learner):
    return kfp_ir.compile_learner_package(learner, "sweep_pipeline", "hidden-sweep.yaml")


@pytest.fixture(scope="module")
def package(compiled):
    assert compiled.package is not None, compiled.package_problem or compiled.compile_problem
    return compiled.package


@pytest.fixture(scope="module")
def runs(learner, pipeline_runner):
    pipeline, component = {"timeout": PIPELINE_SECONDS}, {"timeout": COMPONENT_SECONDS}
    jobs = [
        dict(pipeline, pipeline="sweep_pipeline", arguments={"learning_rates": TIE_SWEEP}),
        dict(pipeline, pipeline="sweep_pipeline", arguments={"learning_rates": FAILING_SWEEP}),
        dict(component, component="train_candidate", arguments={"learning_rate": CANDIDATE_ALONE}),
        dict(component, component="pick_best", arguments=PICK_ALONE),
        dict(component, component="announce", arguments={"message": MESSAGE_ALONE}),
    ]
    tie, failing, candidate, pick, announce = kfp_ir.run_jobs(learner, pipeline_runner, jobs, _budget(jobs))
    return {"tie": tie, "failing": failing, "candidate": candidate, "pick": pick, "announce": announce}


def _task(run: kfp_ir.RunReport, name: str, what: str) -> kfp_ir.TaskOutputs:
    task = run.task(name)
    assert task is not None, run.failure(what) if not run.ok else \
        f"{what}: the task {name} left no outputs"
    return task


def _loop_group(package, task_name: str) -> str | None:
    loops = [g for g, kind in package.enclosing(task_name) if kind == "loop"]
    return loops[-1] if loops else None


# ------------------------------------------------------------------ the package

@pytest.mark.points(1)
def test_compile_pipeline(compiled):
    """compile_pipeline writes the package to package_path and returns that path"""
    assert compiled.compile_problem is None, compiled.compile_problem


@pytest.mark.points(1)
def test_name_tasks_and_interfaces(package):
    """The package holds sweep-pipeline, its three components and their interfaces"""
    assert package.name == "sweep-pipeline", "the pipeline must be named 'sweep-pipeline'"
    names = package.task_names()
    assert names == ["announce", "pick-best", "train-candidate"], (
        f"the pipeline's tasks are {names}: call announce, train_candidate (in the loop) and pick_best once each")
    expected = {
        "train_candidate": {"inputs": {"learning_rate": "NUMBER_DOUBLE"}, "outputs": {"Output": "NUMBER_DOUBLE"}},
        "pick_best": {"inputs": {"learning_rates": "LIST", "scores": "LIST"}, "outputs": {"Output": "NUMBER_DOUBLE"}},
        "announce": {"inputs": {"message": "STRING"}, "outputs": {"Output": "STRING"}},
    }
    for function, interface in expected.items():
        got = package.interface(package.find_one(function).name)
        assert got == interface, f"{function}'s interface is {got}; the contract's is {interface}"


@pytest.mark.points(1)
def test_parameter_default(package):
    """learning_rates is a list parameter defaulting to [0.001, 0.01, 0.1, 1.0]"""
    params = package.parameters()
    assert list(params) == ["learning_rates"], f"the pipeline's parameters are {sorted(params)}; expected learning_rates"
    assert params["learning_rates"]["type"] == "LIST", "learning_rates must be annotated List[float]"
    assert params["learning_rates"].get("default") == [0.001, 0.01, 0.1, 1.0], (
        "learning_rates must default to [0.001, 0.01, 0.1, 1.0]")


@pytest.mark.points(2)
def test_fan_out(package):
    """train_candidate runs in a dsl.ParallelFor over learning_rates, one rate per iteration"""
    candidate = package.find_one("train_candidate")
    loop = _loop_group(package, candidate.name)
    assert loop is not None, "train_candidate is not inside a loop: use dsl.ParallelFor(learning_rates, ...)"
    items = package.loop_items(loop)
    assert items.kind == "pipeline_input" and items.name == "learning_rates", (
        "the loop must iterate over the pipeline parameter learning_rates")
    source = candidate.inputs.get("learning_rate")
    assert source is not None and source.kind == "loop_item", (
        "train_candidate's learning_rate must be the loop's item: with dsl.ParallelFor(...) as rate: "
        "train_candidate(learning_rate=rate)")


@pytest.mark.points(2)
def test_parallelism_limit(package):
    """The loop runs at most 2 candidates at a time"""
    loop = _loop_group(package, package.find_one("train_candidate").name)
    assert loop is not None, "train_candidate is not inside a dsl.ParallelFor"
    limit = package.parallelism(loop)
    assert limit != 0, ("the loop has no parallelism limit: dsl.ParallelFor(learning_rates, parallelism=2) "
                        "(parallelism must be passed by keyword)")
    assert limit == 2, f"the loop's parallelism limit is {limit}; the contract asks for 2"


@pytest.mark.points(2)
def test_fan_in(package):
    """pick_best, after the loop, gets learning_rates and the collected scores"""
    pick, candidate = package.find_one("pick_best"), package.find_one("train_candidate")
    assert _loop_group(package, pick.name) is None, (
        "pick_best is inside the loop: call it after the `with dsl.ParallelFor(...)` block, once")
    rates = pick.inputs.get("learning_rates")
    assert rates is not None and rates.kind == "pipeline_input" and rates.name == "learning_rates", (
        "pick_best's learning_rates must be the pipeline parameter learning_rates")
    scores = pick.inputs.get("scores")
    assert scores is not None and scores.kind == "task_output" and scores.producer == candidate.name \
        and scores.final_key == "Output" and scores.via, (
            "pick_best's scores must collect every iteration's score: scores=dsl.Collected(candidate.output)")


@pytest.mark.points(2)
def test_exit_handler(package):
    """announce is the exit task of a dsl.ExitHandler around the sweep"""
    announce = package.find_one("announce")
    assert package.trigger_strategy(announce.name) == "ALL_UPSTREAM_TASKS_COMPLETED", (
        "announce does not run when the sweep fails: make it the exit task, "
        "with dsl.ExitHandler(announce(message='sweep finished')):")
    handlers = [d for d in package.dependencies(announce.name) if package.group_kind(d) == "exit_handler"]
    assert handlers, "announce must be the exit task of a dsl.ExitHandler"
    inside = {t.name for t in package.tasks() if handlers[0] in t.groups}
    assert {package.find_one("train_candidate").name, package.find_one("pick_best").name} <= inside, (
        "the loop and pick_best must both be inside the `with dsl.ExitHandler(...)` block")
    message = announce.inputs.get("message")
    assert message is not None and message.kind == "constant" and message.value == "sweep finished", (
        "announce's message must be 'sweep finished'")


# ------------------------------------------------------------------ the pipeline, run locally

@pytest.mark.points(2)
def test_run_scores(runs):
    """Sweep on another list: every candidate is scored as specified, in list order"""
    run = runs["tie"]
    iterations = run.loop("train-candidate")
    assert iterations, run.failure("running sweep_pipeline on another list")
    assert len(iterations) == len(TIE_SWEEP), "the sweep did not score one candidate per learning rate"
    for (_, task), rate in zip(iterations, TIE_SWEEP):
        got = task.output
        assert isinstance(got, (int, float)) and abs(got - spec_score(rate)) <= TOL, (
            "a candidate's score differs from round(1.0 - (math.log10(learning_rate) + 1.5) ** 2 / 10.0, 6)")


@pytest.mark.points(3)
def test_run_best_rate(runs):
    """Sweep on another list with a tie: pick_best returns the smaller of the tied best rates"""
    run = runs["tie"]
    task = _task(run, "pick-best", "running sweep_pipeline on another list")
    got = task.output
    scores = [spec_score(r) for r in TIE_SWEEP]
    if got == larger_on_tie(TIE_SWEEP, scores):
        raise AssertionError("when two learning rates tie for the best score, pick_best must return the "
                             "smaller one; yours returned the larger")
    assert got == spec_best(TIE_SWEEP, scores), (
        "pick_best did not return the learning rate with the highest score (pair rates and scores by position)")


@pytest.mark.points(1)
def test_run_announces(runs):
    """Sweep on another list: the exit task announces the end"""
    run = runs["tie"]
    task = _task(run, "announce", "running sweep_pipeline on another list")
    assert task.output == "sweep finished", "announce must return 'sweep finished'"


@pytest.mark.points(2)
def test_exit_task_runs_after_failure(runs):
    """Sweep whose body fails: the exit task still runs"""
    run = runs["failing"]
    assert not run.ok, "a sweep over a non-positive learning rate should fail (math.log10 of it is undefined)"
    task = run.task("announce")
    assert task is not None, ("when the sweep fails, announce did not run: an exit task "
                              "(dsl.ExitHandler(exit_task)) runs after its body whether the body succeeded or not")
    assert task.output == "sweep finished", "announce must return 'sweep finished'"


# ------------------------------------------------------------------ each component on its own

@pytest.mark.points(1)
def test_train_candidate_alone(runs):
    """train_candidate run on its own scores a learning rate"""
    run = runs["candidate"]
    task = _task(run, "train-candidate", "running train_candidate on its own")
    got = task.output
    assert isinstance(got, (int, float)) and abs(got - spec_score(CANDIDATE_ALONE)) <= TOL, (
        "train_candidate run on its own does not return round(1.0 - (math.log10(learning_rate) + 1.5) ** 2 "
        "/ 10.0, 6)")


@pytest.mark.points(2)
def test_pick_best_alone(runs):
    """pick_best run on its own: negative scores, and a tie listed larger rate first"""
    run = runs["pick"]
    task = _task(run, "pick-best", "running pick_best on its own")
    got = task.output
    rates, scores = PICK_ALONE["learning_rates"], PICK_ALONE["scores"]
    if got == larger_on_tie(rates, scores):
        raise AssertionError("pick_best run on its own: on a tie it must return the smaller learning rate; "
                             "yours returned the larger")
    assert got == spec_best(rates, scores), (
        "pick_best run on its own did not return the rate with the highest score "
        "(scores can all be negative: do not start the search from 0)")


@pytest.mark.points(1)
def test_announce_alone(runs):
    """announce run on its own returns its message"""
    run = runs["announce"]
    task = _task(run, "announce", "running announce on its own")
    assert task.output == MESSAGE_ALONE, "announce run on its own does not return its message"
