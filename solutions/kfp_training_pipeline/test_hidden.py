"""Hidden tests for kfp_training_pipeline.

The IR (artifact types, resources, retries, caching, the deployment gate) is
read from the package the learner's compile_pipeline writes in the sandbox.
Behaviour comes from local kfp.local runs, all in ONE recipe call: the
pipeline twice on hidden parameters (threshold met exactly, and not met),
and each component on its own (train_model and deploy_model through an
importer harness, on files written here; train_model also with a learning
rate of 0, where every p is exactly 0.5 and the p >= 0.5 rule decides). Expected values are recomputed
here, in plain Python, from the specification.

Failure messages name the problem, never the hidden parameters or values.
"""
import csv
import hashlib
import io
import json
import math
import random

import pytest

from grader.testing import kfp_ir

TOL = 1e-9
GATE_MET = {"n_rows": 120, "seed": 7, "epochs": 60, "learning_rate": 0.3, "endpoint_name": "gate-check"}
GATE_NOT_MET = {"n_rows": 80, "seed": 2024, "epochs": 40, "learning_rate": 0.8, "endpoint_name": "never-deployed"}
PREPARE_ALONE = {"n_rows": 37, "seed": 31337}
TRAIN_ALONE = {"epochs": 25, "learning_rate": 1.5}
TRAIN_FLAT = {"epochs": 3, "learning_rate": 0.0}  # weights stay 0, so every p is exactly 0.5
DEPLOY_ALONE = {"endpoint_name": "edge-endpoint"}
MODEL_BYTES = b'{"weights": [0.25, -1.5], "bias": 0.125}'
PIPELINE_SECONDS = 30     # per local run: the reference needs about 1 s; an endless loop is stopped
COMPONENT_SECONDS = 20


def _budget(jobs: list) -> float:
    return sum(job["timeout"] for job in jobs) + 60


# ------------------------------------------------------------------ the specification, in plain Python

def spec_rows(n_rows: int, seed: int) -> list[tuple[float, float, int]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n_rows):
        x1 = rng.uniform(-1, 1)
        x2 = rng.uniform(-1, 1)
        rows.append((x1, x2, 1 if x1 + 2 * x2 > 0.1 else 0))
    return rows


def _p(w1, w2, b, x1, x2):
    return 1.0 / (1.0 + math.exp(-(w1 * x1 + w2 * x2 + b)))


def spec_train(rows, epochs: int, learning_rate: float, sequential: bool = False):
    """Weights, bias and accuracy; ``sequential`` is the classic mistake (update one parameter at a time)."""
    n = len(rows)
    w = [0.0, 0.0, 0.0]  # w1, w2, b
    for _ in range(epochs):
        if sequential:
            for j in range(3):
                g = sum((_p(*w, x1, x2) - y) * (x1, x2, 1.0)[j] for x1, x2, y in rows) / n
                w[j] -= learning_rate * g
        else:
            g = [0.0, 0.0, 0.0]
            for x1, x2, y in rows:
                e = _p(*w, x1, x2) - y
                g[0] += e * x1
                g[1] += e * x2
                g[2] += e
            w = [w[j] - learning_rate * g[j] / n for j in range(3)]
    correct = sum(1 for x1, x2, y in rows if (1 if _p(*w, x1, x2) >= 0.5 else 0) == y)
    return w[:2], w[2], correct / n


def train_alone_rows() -> list[tuple[float, float, int]]:
    """A data set unlike prepare_data's (another rule, some labels flipped), so accuracy is below 1."""
    rng = random.Random(99)
    rows = []
    for i in range(50):
        x1, x2 = rng.uniform(-2, 2), rng.uniform(-1, 1)
        label = 1 if x1 - x2 > 0.3 else 0
        rows.append((x1, x2, 1 - label if i % 7 == 3 else label))
    return rows


def train_alone_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n" line ends, as csv.writer writes them
    writer.writerow(["x1", "x2", "label"])
    for x1, x2, y in train_alone_rows():
        writer.writerow([repr(x1), repr(x2), y])
    return out.getvalue().encode()


def expected_deploy(endpoint: str, model_bytes: bytes) -> str:
    return f"{endpoint}:{hashlib.sha256(model_bytes).hexdigest()[:12]}"


def met_threshold() -> float:
    rows = spec_rows(GATE_MET["n_rows"], GATE_MET["seed"])
    return spec_train(rows, GATE_MET["epochs"], GATE_MET["learning_rate"])[2]


def unmet_threshold() -> float:
    rows = spec_rows(GATE_NOT_MET["n_rows"], GATE_NOT_MET["seed"])
    return spec_train(rows, GATE_NOT_MET["epochs"], GATE_NOT_MET["learning_rate"])[2] + 0.02


# ------------------------------------------------------------------ checking helpers

def parse_dataset(content: bytes | None) -> tuple[list | None, str | None]:
    if content is None:
        return None, "the dataset artifact was not written (write the CSV to dataset.path)"
    try:
        reader = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        return None, "the dataset artifact is not a readable CSV file"
    if not reader or reader[0] != ["x1", "x2", "label"]:
        return None, "the dataset's first line must be the header x1,x2,label"
    rows = []
    for line in reader[1:]:
        if not line:
            continue
        try:
            x1, x2, label = line
            rows.append((float(x1), float(x2), int(label)))
        except ValueError:
            return None, "every dataset row must be x1,x2,label: two numbers and a 0/1 label"
    return rows, None


def dataset_problem(got: list, expected: list) -> str | None:
    if len(got) != len(expected):
        return "the dataset does not have n_rows rows"
    for (gx1, gx2, gy), (ex1, ex2, ey) in zip(got, expected):
        if abs(gx1 - ex1) > TOL or abs(gx2 - ex2) > TOL:
            return ("the dataset's x values differ from the specification: with rng = random.Random(seed), "
                    "each row draws x1 = rng.uniform(-1, 1) then x2 = rng.uniform(-1, 1), written with repr")
    for (gx1, gx2, gy), (ex1, ex2, ey) in zip(got, expected):
        if gy != ey:
            return "the dataset's labels differ from the specification: label = 1 if x1 + 2 * x2 > 0.1 else 0"
    return None


def parse_model(content: bytes | None) -> tuple[tuple | None, str | None]:
    if content is None:
        return None, "the model artifact was not written (write the JSON to model.path)"
    try:
        data = json.loads(content.decode("utf-8"))
        w1, w2 = (float(v) for v in data["weights"])
        return (w1, w2, float(data["bias"])), None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None, 'the model artifact must be JSON {"weights": [w1, w2], "bias": b}'


def model_problem(got: tuple, rows, epochs: int, learning_rate: float) -> str | None:
    weights, bias, _ = spec_train(rows, epochs, learning_rate)
    if all(abs(g - e) <= TOL for g, e in zip(got, (*weights, bias))):
        return None
    s_weights, s_bias, _ = spec_train(rows, epochs, learning_rate, sequential=True)
    if all(abs(g - e) <= 1e-7 for g, e in zip(got, (*s_weights, s_bias))):
        return ("the weights come from updating one parameter after another: compute all three gradients "
                "from the same epoch's parameters, then move w1, w2 and b together")
    return ("the trained weights and bias differ from full-batch gradient descent as specified "
            "(start from zeros; each epoch, gradients are means over all rows; each parameter moves by "
            "-learning_rate * gradient)")


def written_rows(run: kfp_ir.RunReport, params: dict) -> list | None:
    """The rows the learner's prepare_data wrote in this run, when they differ from the specification.

    train_model learns from those rows: when they are wrong, weights and
    accuracy are wrong too, whatever train_model does, and the cause to name
    is the data. None when the data is right (or unreadable: the dataset's
    own test says why).
    """
    rows, _ = parse_dataset(run.artifact_bytes("prepare-data", "dataset"))
    if rows is None or dataset_problem(rows, spec_rows(params["n_rows"], params["seed"])) is None:
        return None
    return rows


def data_cause(rows: list, params: dict, trained_right: bool) -> str:
    """The sentence that blames the dataset prepare_data wrote, and says whether train_model is right on it."""
    problem = dataset_problem(rows, spec_rows(params["n_rows"], params["seed"]))
    if trained_right:
        return ("train_model is right for the data it was given, but that data is not the specified dataset: "
                f"{problem}. Fix prepare_data; train_model needs no change")
    return (f"the dataset prepare_data wrote differs from the specification ({problem}), and train_model "
            "learns from it: fix prepare_data first, then check train_model against the specification")


def accuracy_of(task: kfp_ir.TaskOutputs) -> tuple[float | None, float | None]:
    return task.output, task.metadata("metrics").get("accuracy")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def compiled(learner):
    return kfp_ir.compile_learner_package(learner, "training_pipeline", "hidden-training.yaml")


@pytest.fixture(scope="module")
def package(compiled):
    assert compiled.package is not None, compiled.package_problem or compiled.compile_problem
    return compiled.package


@pytest.fixture(scope="module")
def thresholds():
    return {"met": met_threshold(), "not_met": unmet_threshold()}


@pytest.fixture(scope="module")
def runs(learner, pipeline_runner, thresholds):
    pipeline, component = {"timeout": PIPELINE_SECONDS}, {"timeout": COMPONENT_SECONDS}
    jobs = [
        dict(pipeline, pipeline="training_pipeline",
             arguments=dict(GATE_MET, accuracy_threshold=thresholds["met"])),
        dict(pipeline, pipeline="training_pipeline",
             arguments=dict(GATE_NOT_MET, accuracy_threshold=thresholds["not_met"])),
        dict(component, component="prepare_data", arguments=PREPARE_ALONE),
        dict(component, component="train_model", arguments=TRAIN_ALONE,
             artifacts={"dataset": {"content": train_alone_csv(), "type": "Dataset"}}),
        dict(component, component="deploy_model", arguments=DEPLOY_ALONE,
             artifacts={"model": {"content": MODEL_BYTES, "type": "Model"}}),
        dict(component, component="train_model", arguments=TRAIN_FLAT,
             artifacts={"dataset": {"content": train_alone_csv(), "type": "Dataset"}}),
    ]
    met, not_met, prepare, train, deploy, flat = kfp_ir.run_jobs(learner, pipeline_runner, jobs, _budget(jobs))
    return {"met": met, "not_met": not_met, "prepare": prepare, "train": train, "deploy": deploy, "flat": flat}


def _task(run: kfp_ir.RunReport, name: str, what: str) -> kfp_ir.TaskOutputs:
    task = run.task(name)
    assert task is not None, run.failure(what) if not run.ok else \
        f"{what}: the task {name} left no outputs"
    return task


# ------------------------------------------------------------------ the package

@pytest.mark.points(1)
def test_compile_pipeline(compiled):
    """compile_pipeline writes the package to package_path and returns that path"""
    assert compiled.compile_problem is None, compiled.compile_problem


@pytest.mark.points(1)
def test_name_and_tasks(package):
    """The package holds training-pipeline with prepare-data, train-model and deploy-model"""
    assert package.name == "training-pipeline", "the pipeline must be named 'training-pipeline'"
    names = package.task_names()
    assert names == ["deploy-model", "prepare-data", "train-model"], (
        f"the pipeline's tasks are {names}: call prepare_data, train_model and deploy_model once each")


@pytest.mark.points(2)
def test_artifact_types(package):
    """Components pass typed artifacts: system.Dataset, system.Model, system.Metrics"""
    prepare = package.interface(package.find_one("prepare_data").name)
    assert prepare == {"inputs": {"n_rows": "NUMBER_INTEGER", "seed": "NUMBER_INTEGER"},
                       "outputs": {"dataset": "system.Dataset"}}, (
        f"prepare_data's interface is {prepare}: (n_rows: int, seed: int, dataset: Output[Dataset]), no return")
    train = package.interface(package.find_one("train_model").name)
    assert train == {"inputs": {"dataset": "system.Dataset", "epochs": "NUMBER_INTEGER",
                                "learning_rate": "NUMBER_DOUBLE"},
                     "outputs": {"model": "system.Model", "metrics": "system.Metrics", "Output": "NUMBER_DOUBLE"}}, (
        f"train_model's interface is {train}: (dataset: Input[Dataset], epochs: int, learning_rate: float, "
        "model: Output[Model], metrics: Output[Metrics]) -> float")
    deploy = package.interface(package.find_one("deploy_model").name)
    assert deploy == {"inputs": {"model": "system.Model", "endpoint_name": "STRING"}, "outputs": {"Output": "STRING"}}, (
        f"deploy_model's interface is {deploy}: (model: Input[Model], endpoint_name: str) -> str")


@pytest.mark.points(1)
def test_parameters(package):
    """Pipeline parameters have the contract's types and defaults"""
    expected = {"n_rows": ("NUMBER_INTEGER", 200), "seed": ("NUMBER_INTEGER", 42),
                "epochs": ("NUMBER_INTEGER", 100), "learning_rate": ("NUMBER_DOUBLE", 0.5),
                "accuracy_threshold": ("NUMBER_DOUBLE", 0.8), "endpoint_name": ("STRING", "demo-endpoint")}
    params = package.parameters()
    assert sorted(params) == sorted(expected), f"the pipeline's parameters are {sorted(params)}; expected {sorted(expected)}"
    for name, (kind, default) in expected.items():
        assert params[name]["type"] == kind, f"pipeline parameter {name} has type {params[name]['type']}, expected {kind}"
        assert params[name].get("default") == default, f"pipeline parameter {name} must default to {default!r}"


@pytest.mark.points(2)
def test_wiring(package):
    """Artifacts flow prepare -> train -> deploy; every parameter comes from the pipeline"""
    prepare, train, deploy = (package.find_one(n) for n in ("prepare_data", "train_model", "deploy_model"))
    for task, inputs in ((prepare, ("n_rows", "seed")), (train, ("epochs", "learning_rate")),
                         (deploy, ("endpoint_name",))):
        for name in inputs:
            source = task.inputs.get(name)
            assert source is not None and source.kind == "pipeline_input" and source.name == name, (
                f"{task.name}'s input {name} must be the pipeline's parameter {name}")
    dataset = train.inputs.get("dataset")
    assert dataset is not None and dataset.kind == "task_output" and dataset.producer == prepare.name \
        and dataset.final_key == "dataset", "train_model's dataset must be prepare_data's dataset output"
    model = deploy.inputs.get("model")
    assert model is not None and model.kind == "task_output" and model.producer == train.name \
        and model.final_key == "model", "deploy_model's model must be train_model's model output"


@pytest.mark.points(2)
def test_train_resources(package):
    """train_model has a CPU limit of 2 and a memory limit of 4G"""
    resources = package.resources(package.find_one("train_model").name)
    assert resources["cpu_limit"] is not None, "train_model has no CPU limit: use .set_cpu_limit('2')"
    assert resources["cpu_limit_cores"] == 2.0, "train_model's CPU limit must be 2 CPUs ('2')"
    memory = resources["memory_limit"]
    assert memory is not None, "train_model has no memory limit: use .set_memory_limit('4G')"
    if resources["memory_limit_bytes"] is not None and resources["memory_limit_bytes"] < 1e6:
        raise AssertionError(
            f"train_model's memory limit {memory!r} has no unit, so it means {memory} bytes: write '4G'")
    assert resources["memory_limit_bytes"] == 4e9, (
        f"train_model's memory limit is {memory!r}; the contract asks for '4G' (4 gigabytes)")


@pytest.mark.points(1)
def test_train_retries(package):
    """train_model is retried twice"""
    retries = package.retries(package.find_one("train_model").name)
    assert retries == 2, (
        "train_model has no retry policy: use .set_retry(num_retries=2)" if retries == 0 else
        f"train_model is retried {retries} times; the contract asks for 2")


@pytest.mark.points(1)
def test_prepare_caching_off(package):
    """prepare_data has caching disabled"""
    assert not package.caching(package.find_one("prepare_data").name), (
        "prepare_data may reuse cached results: call .set_caching_options(enable_caching=False) on its task")


@pytest.mark.points(2)
def test_deploy_gate(package):
    """deploy_model runs only inside dsl.If(train output >= accuracy_threshold)"""
    deploy, train = package.find_one("deploy_model"), package.find_one("train_model")
    groups = [g for g, kind in package.enclosing(deploy.name) if kind == "condition"]
    assert groups, "deploy_model is not inside a condition: put it under dsl.If(... >= accuracy_threshold)"
    found = []
    for group in groups:
        for left, op, right in package.condition_terms(group):
            found.append((left, op, right))
            flipped = {">=": "<=", "<=": ">="}.get(op)
            for a, o, b in ((left, op, right), (right, flipped, left)):
                if o == ">=" and a.kind == "task_output" and a.producer == train.name and a.final_key == "Output" \
                        and b.kind == "pipeline_input" and b.name == "accuracy_threshold":
                    return
    ops = {op for _, op, _ in found}
    if ops & {">", "<"}:
        raise AssertionError("deploy_model's condition uses a strict comparison: a model exactly at the "
                             "threshold must deploy, so compare with >=")
    raise AssertionError("deploy_model's condition must compare train_model's output (train_task.outputs['Output']) "
                         ">= the pipeline parameter accuracy_threshold")


# ------------------------------------------------------------------ the pipeline, run locally

@pytest.mark.points(2)
def test_run_dataset(runs):
    """Pipeline run on other parameters: the dataset matches the specification"""
    run = runs["met"]
    _task(run, "prepare-data", "running training_pipeline on other parameters")
    rows, problem = parse_dataset(run.artifact_bytes("prepare-data", "dataset"))
    assert rows is not None, problem
    problem = dataset_problem(rows, spec_rows(GATE_MET["n_rows"], GATE_MET["seed"]))
    assert problem is None, f"in a pipeline run on other parameters, {problem}"


@pytest.mark.points(3)
def test_run_model(runs):
    """Pipeline run on other parameters: weights and bias match the specification"""
    run = runs["met"]
    _task(run, "train-model", "running training_pipeline on other parameters")
    got, problem = parse_model(run.artifact_bytes("train-model", "model"))
    assert got is not None, problem
    rows = spec_rows(GATE_MET["n_rows"], GATE_MET["seed"])
    problem = model_problem(got, rows, GATE_MET["epochs"], GATE_MET["learning_rate"])
    written = written_rows(run, GATE_MET) if problem is not None else None
    if written is not None:  # the weights are wrong because the data is: name the data
        right = model_problem(got, written, GATE_MET["epochs"], GATE_MET["learning_rate"]) is None
        problem = data_cause(written, GATE_MET, right)
    assert problem is None, f"in a pipeline run on other parameters, {problem}"


@pytest.mark.points(2)
def test_run_accuracy(runs):
    """Pipeline run on other parameters: returned and logged accuracy match the specification"""
    run = runs["met"]
    task = _task(run, "train-model", "running training_pipeline on other parameters")
    output, logged = accuracy_of(task)
    rows = spec_rows(GATE_MET["n_rows"], GATE_MET["seed"])
    expected = spec_train(rows, GATE_MET["epochs"], GATE_MET["learning_rate"])[2]
    if not (isinstance(output, (int, float)) and abs(output - expected) <= TOL):
        written = written_rows(run, GATE_MET)
        if written is not None:  # the accuracy is wrong because the data is: name the data
            on_written = spec_train(written, GATE_MET["epochs"], GATE_MET["learning_rate"])[2]
            right = isinstance(output, (int, float)) and abs(output - on_written) <= TOL
            raise AssertionError(f"train_model's returned accuracy differs from the specification: "
                                 f"{data_cause(written, GATE_MET, right)}")
    assert isinstance(output, (int, float)) and abs(output - expected) <= TOL, (
        "train_model's returned accuracy differs from the specification "
        "(training accuracy of the final weights, predicting 1 when p >= 0.5)")
    assert isinstance(logged, (int, float)) and abs(logged - expected) <= TOL, (
        "train_model must log the same accuracy with metrics.log_metric('accuracy', acc)")


@pytest.mark.points(2)
def test_run_deploys_at_threshold(runs, thresholds):
    """Pipeline run whose accuracy meets the threshold exactly: the model deploys"""
    run = runs["met"]
    train = _task(run, "train-model", "running training_pipeline on other parameters")
    output = train.output
    deploy = run.task("deploy-model")
    if isinstance(output, (int, float)) and output >= thresholds["met"]:
        assert deploy is not None, (
            run.failure("deploying") if not run.ok else
            "train_model's accuracy equalled accuracy_threshold, and deploy_model did not run: "
            "the gate is accuracy >= threshold")
    else:
        assert deploy is None, "deploy_model ran although the accuracy was below the threshold"
    if deploy is not None:
        model = run.artifact_bytes("train-model", "model") or b""
        assert deploy.output == expected_deploy(GATE_MET["endpoint_name"], model), (
            "deploy_model must return f'{endpoint_name}:{digest}', digest = the first 12 hex characters of "
            "the SHA-256 of the model file's bytes")


@pytest.mark.points(2)
def test_run_no_deploy_below_threshold(runs, thresholds, compiled):
    """Pipeline run whose accuracy misses the threshold: the model is not deployed"""
    run = runs["not_met"]
    train = _task(run, "train-model", "running training_pipeline on other parameters")
    output = train.output
    if run.task("deploy-model") is None:
        return
    gate = ("deploy_model ran although train_model's accuracy was below accuracy_threshold: "
            "call it inside dsl.If(train_task.outputs['Output'] >= accuracy_threshold)")
    assert _deploy_is_gated(compiled), gate
    assert isinstance(output, (int, float)) and output >= thresholds["not_met"], gate
    # Deployed on an accuracy that met the threshold: the gate did its job; blame the accuracy, if it is wrong.
    rows = spec_rows(GATE_NOT_MET["n_rows"], GATE_NOT_MET["seed"])
    expected = spec_train(rows, GATE_NOT_MET["epochs"], GATE_NOT_MET["learning_rate"])[2]
    written = written_rows(run, GATE_NOT_MET) if abs(output - expected) > TOL else None
    if written is not None:
        on_written = spec_train(written, GATE_NOT_MET["epochs"], GATE_NOT_MET["learning_rate"])[2]
        raise AssertionError("the model was deployed because train_model's accuracy differs from the "
                             "specification (the gate compared correctly): "
                             f"{data_cause(written, GATE_NOT_MET, abs(output - on_written) <= TOL)}")
    assert abs(output - expected) <= TOL, (
        "the model was deployed because train_model's accuracy differs from the specification: the gate "
        "compared correctly, but the accuracy of the specified training misses the threshold, so fix "
        "train_model (see the tests of its weights and accuracy)")
    raise AssertionError("the model was deployed although the correct accuracy misses the threshold")


def _deploy_is_gated(compiled) -> bool:
    """deploy_model sits inside some condition of the compiled package (whatever it compares)."""
    package = compiled.package
    if package is None:
        return False
    return any(kind == "condition" for task in package.find("deploy_model")
               for _, kind in package.enclosing(task.name))


# ------------------------------------------------------------------ each component on its own

@pytest.mark.points(2)
def test_prepare_data_alone(runs):
    """prepare_data run on its own writes the specified dataset"""
    run = runs["prepare"]
    _task(run, "prepare-data", "running prepare_data on its own")
    rows, problem = parse_dataset(run.artifact_bytes("prepare-data", "dataset"))
    assert rows is not None, problem
    problem = dataset_problem(rows, spec_rows(PREPARE_ALONE["n_rows"], PREPARE_ALONE["seed"]))
    assert problem is None, f"prepare_data run on its own: {problem}"


@pytest.mark.points(3)
def test_train_model_alone(runs):
    """train_model run on its own on another dataset: weights, bias and accuracy"""
    run = runs["train"]
    task = _task(run, "train-model", "running train_model on its own")
    got, problem = parse_model(run.artifact_bytes("train-model", "model"))
    assert got is not None, problem
    rows = train_alone_rows()
    problem = model_problem(got, rows, TRAIN_ALONE["epochs"], TRAIN_ALONE["learning_rate"])
    assert problem is None, f"train_model run on its own on another dataset: {problem}"
    output, logged = accuracy_of(task)
    expected = spec_train(rows, TRAIN_ALONE["epochs"], TRAIN_ALONE["learning_rate"])[2]
    assert isinstance(output, (int, float)) and abs(output - expected) <= TOL and \
        isinstance(logged, (int, float)) and abs(logged - expected) <= TOL, (
            "train_model run on its own: the returned or logged accuracy is not the training accuracy "
            "of the final weights (predict 1 when p >= 0.5)")


@pytest.mark.points(1)
def test_train_model_all_p_at_half(runs):
    """train_model with weights that stay at zero, so every p is exactly 0.5: it predicts 1 (p >= 0.5)"""
    run = runs["flat"]
    task = _task(run, "train-model", "running train_model on its own with a learning rate of 0")
    output, logged = accuracy_of(task)
    rows = train_alone_rows()
    expected = spec_train(rows, TRAIN_FLAT["epochs"], TRAIN_FLAT["learning_rate"])[2]
    strict = sum(1 for _, _, y in rows if y == 0) / len(rows)  # what "predict 1 when p > 0.5" scores here
    for value in (output, logged):
        assert not (isinstance(value, (int, float)) and abs(value - strict) <= TOL), (
            "with a learning rate of 0 the weights stay at zero, so every p is exactly 0.5, and train_model "
            "predicted 0 for them: the specification predicts 1 when p >= 0.5")
    assert isinstance(output, (int, float)) and abs(output - expected) <= TOL and \
        isinstance(logged, (int, float)) and abs(logged - expected) <= TOL, (
            "with a learning rate of 0 the weights stay at zero and every p is 0.5: the returned and logged "
            "accuracy must be the share of rows labelled 1 (predict 1 when p >= 0.5)")


@pytest.mark.points(1)
def test_deploy_model_alone(runs):
    """deploy_model run on its own names the endpoint and the model's digest"""
    run = runs["deploy"]
    task = _task(run, "deploy-model", "running deploy_model on its own")
    assert task.output == expected_deploy(DEPLOY_ALONE["endpoint_name"], MODEL_BYTES), (
        "deploy_model must return f'{endpoint_name}:{digest}', digest = the first 12 hex characters of the "
        "SHA-256 of the model file's bytes (read in binary mode)")
