"""Public tests for kfp_training_pipeline.

They compile your pipeline and check its shape, then run it once locally
with its defaults and check that what it produced hangs together (the
dataset follows the labelling rule, the reported accuracy is the accuracy of
the saved model, deployment follows the gate). The hidden tests compare
everything with the specification exactly, on other parameters, check the
task settings (resources, retries, caching, the condition) and run each
component on its own.
"""
import csv
import io
import json
import math

import pytest

from grader.testing import kfp_ir


@pytest.fixture(scope="module")
def package(learner):
    return kfp_ir.learner_package(learner, "public-training.yaml")


@pytest.fixture(scope="module")
def default_run(learner, pipeline_runner):
    return kfp_ir.run_pipeline(learner, pipeline_runner, "training_pipeline")


@pytest.mark.points(1)
@pytest.mark.hints(
    "The README's table 'The contract' gives the pipeline's name and its three components, each called once.",
    "Task names come from the component functions (`prepare_data` becomes `prepare-data`); `deploy_model` called "
    "inside the `dsl.If` block is still a task of the pipeline.",
    'Decorate with `@dsl.pipeline(name="training-pipeline")` and call `prepare_data`, `train_model` and '
    "`deploy_model` exactly once each, with keyword arguments.",
)
def test_package_tasks(package):
    """The package holds training-pipeline with its three tasks"""
    assert package.name == "training-pipeline", f"the pipeline is named {package.name!r}, not 'training-pipeline'"
    names = package.task_names()
    assert names == ["deploy-model", "prepare-data", "train-model"], (
        f"the pipeline's tasks are {names}; expected prepare-data, train-model and deploy-model")


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Components that pass files': an artifact is declared by an `Output[...]` annotation on a parameter "
    "of the component, not returned.",
    "The output's name is the parameter's name: `dataset` in `prepare_data`, `model` and `metrics` in "
    "`train_model`, typed with `Dataset`, `Model`, `Metrics` from `kfp.dsl`.",
    "Copy the signatures from the contract, e.g. `def prepare_data(n_rows: int, seed: int, dataset: "
    "Output[Dataset])`; the caller never passes `Output[...]` parameters.",
)
def test_artifact_outputs(package):
    """prepare_data outputs a Dataset; train_model outputs a Model and Metrics"""
    prepare = package.interface(package.find_one("prepare_data").name)["outputs"]
    assert prepare.get("dataset") == "system.Dataset", (
        f"prepare_data's outputs are {prepare}: declare dataset: Output[Dataset]")
    train = package.interface(package.find_one("train_model").name)["outputs"]
    assert train.get("model") == "system.Model" and train.get("metrics") == "system.Metrics", (
        f"train_model's outputs are {train}: declare model: Output[Model] and metrics: Output[Metrics]")


@pytest.mark.points(2)
@pytest.mark.hints(
    "Run `training_pipeline()` locally (README 'Try it locally'), open `prepare-data/dataset`, "
    "`train-model/model` and each `executor_output.json`, and find the first step that is off.",
    'The accuracy you return and log as `"accuracy"` must be that of the weights you save, computed after the '
    'last epoch with `p >= 0.5`; `deploy_model` gets `train_task.outputs["model"]`.',
    "Low accuracy: compute all three gradients as means over the rows, then update `w1`, `w2` and `b` together; "
    "the digest is `hashlib.sha256(<file bytes>).hexdigest()[:12]`.",
)
def test_default_run_is_consistent(default_run):
    """Run with the defaults: 200 labelled rows, a model, its accuracy, and the gate obeyed"""
    run = default_run
    assert run.ok, run.failure("running training_pipeline()", hidden=False)
    data = run.artifact_bytes("prepare-data", "dataset")
    assert data is not None, "prepare_data wrote nothing to dataset.path"
    table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert table and table[0] == ["x1", "x2", "label"], f"the dataset's header is {table[:1]}; expected x1,x2,label"
    rows = [(float(a), float(b), int(c)) for a, b, c in (r for r in table[1:] if r)]
    assert len(rows) == 200, f"the dataset has {len(rows)} rows; n_rows defaults to 200"
    for x1, x2, label in rows:
        assert -1 <= x1 <= 1 and -1 <= x2 <= 1, f"x values must lie in [-1, 1]; found the row {x1}, {x2}"
        assert label == (1 if x1 + 2 * x2 > 0.1 else 0), f"the row {x1}, {x2} has label {label}: check the rule"

    model_bytes = run.artifact_bytes("train-model", "model")
    assert model_bytes is not None, "train_model wrote nothing to model.path"
    model = json.loads(model_bytes)
    (w1, w2), b = model["weights"], model["bias"]
    correct = sum(1 for x1, x2, y in rows
                  if (1 if 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b))) >= 0.5 else 0) == y)
    train = run.task("train-model")
    returned = train.output
    logged = train.metadata("metrics").get("accuracy")
    assert returned is not None and abs(returned - correct / 200) < 1e-9, (
        f"train_model returned {returned}, but the saved model classifies {correct} of 200 rows correctly")
    assert logged is not None and abs(logged - returned) < 1e-9, (
        f"train_model logged accuracy {logged} but returned {returned}: log the same value")
    assert returned > 0.9, f"the default run reaches accuracy {returned}; gradient descent should do much better"

    deploy = run.task("deploy-model")
    assert deploy is not None, "accuracy >= 0.8 by default, yet deploy_model did not run"
    endpoint = deploy.output
    assert isinstance(endpoint, str) and endpoint.startswith("demo-endpoint:") and len(endpoint) == 26, (
        f"deploy_model returned {endpoint!r}; expected 'demo-endpoint:' + 12 hex characters")
