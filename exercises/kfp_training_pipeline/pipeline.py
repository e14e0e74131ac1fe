# %% [markdown]
# # Artifacts, resources and a deployment gate
#
# Kubeflow Pipelines on Vertex AI. A three-step training pipeline:
# `prepare_data` writes a data set, `train_model` fits a logistic regression
# and reports its accuracy, and `deploy_model` runs only when that accuracy
# reaches a threshold.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check kfp_training_pipeline pipeline.py`.
#
# Remember (README, section "Components that pass files"): a component runs
# alone, from its own source, so every import goes inside its body, and it
# uses only the standard library.

# %%
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


# %% [markdown]
# ## prepare_data
#
# CSV with header `x1,x2,label` and `n_rows` rows. With
# `rng = random.Random(seed)`, each row draws `x1 = rng.uniform(-1, 1)`, then
# `x2 = rng.uniform(-1, 1)`; `label = 1 if x1 + 2 * x2 > 0.1 else 0`. Write
# the floats with `repr`.

# %%
@dsl.component(base_image="python:3.11")
def prepare_data(n_rows: int, seed: int, dataset: Output[Dataset]):
    # TODO: write the CSV to dataset.path.
    raise NotImplementedError("prepare_data: see README, section 'The data'")


# %% [markdown]
# ## train_model
#
# Logistic regression by full-batch gradient descent from zeros. Each epoch:
# `p_i = 1 / (1 + exp(-(w1*x1 + w2*x2 + b)))`; the gradients are the means
# over all rows of `(p_i - y_i) * x1`, `(p_i - y_i) * x2` and `(p_i - y_i)`;
# then every parameter moves by `-learning_rate * gradient`.
# Save `{"weights": [w1, w2], "bias": b}` as JSON to `model.path`, log the
# training accuracy (predict 1 when `p >= 0.5`) as the metric `"accuracy"`,
# and return it.

# %%
@dsl.component(base_image="python:3.11")
def train_model(dataset: Input[Dataset], epochs: int, learning_rate: float,
                model: Output[Model], metrics: Output[Metrics]) -> float:
    # TODO: read dataset.path, train, write model.path, log and return the accuracy.
    raise NotImplementedError("train_model: see README, section 'Training'")


# %% [markdown]
# ## deploy_model
#
# Returns `f"{endpoint_name}:{digest}"`, where `digest` is the first 12 hex
# characters of the SHA-256 of the model file's bytes.

# %%
@dsl.component(base_image="python:3.11")
def deploy_model(model: Input[Model], endpoint_name: str) -> str:
    # TODO: hash the bytes of model.path.
    raise NotImplementedError("deploy_model: see README, section 'Deployment gate'")


# %% [markdown]
# ## The pipeline
#
# Wire the three components, then configure the tasks: caching off for
# `prepare_data`; CPU limit `"2"`, memory limit `"4G"` and 2 retries for
# `train_model`; `deploy_model` only inside
# `dsl.If(<train accuracy> >= accuracy_threshold)`.

# %%
# TODO: decorate with @dsl.pipeline(name="training-pipeline") once the body is
# written (the decorator builds the graph at once: an empty pipeline fails).
def training_pipeline(n_rows: int = 200, seed: int = 42, epochs: int = 100, learning_rate: float = 0.5,
                      accuracy_threshold: float = 0.8, endpoint_name: str = "demo-endpoint"):
    # TODO: call the components with keyword arguments. train_model has
    # several outputs: its return value is train_task.outputs["Output"], its
    # model train_task.outputs["model"].
    raise NotImplementedError("training_pipeline: see README, section 'Task settings'")


# %% [markdown]
# ## Compile

# %%
def compile_pipeline(package_path: str) -> str:
    # TODO: compile training_pipeline to package_path and return package_path.
    raise NotImplementedError("compile_pipeline: see README, section 'Task settings'")
