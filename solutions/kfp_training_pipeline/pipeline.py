"""Reference solution: a training pipeline with artifacts, resources, retries, caching and a gate."""
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def prepare_data(n_rows: int, seed: int, dataset: Output[Dataset]):
    """Write n_rows labelled points to the dataset artifact, as CSV."""
    import csv
    import random

    rng = random.Random(seed)
    with open(dataset.path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x1", "x2", "label"])
        for _ in range(n_rows):
            x1 = rng.uniform(-1, 1)
            x2 = rng.uniform(-1, 1)
            label = 1 if x1 + 2 * x2 > 0.1 else 0
            writer.writerow([repr(x1), repr(x2), label])


@dsl.component(base_image="python:3.11")
def train_model(dataset: Input[Dataset], epochs: int, learning_rate: float,
                model: Output[Model], metrics: Output[Metrics]) -> float:
    """Logistic regression by full-batch gradient descent; returns the training accuracy."""
    import csv
    import json
    import math

    with open(dataset.path, newline="") as f:
        rows = [(float(r["x1"]), float(r["x2"]), int(r["label"])) for r in csv.DictReader(f)]
    n = len(rows)

    def prob(w1, w2, b, x1, x2):
        return 1.0 / (1.0 + math.exp(-(w1 * x1 + w2 * x2 + b)))

    w1 = w2 = b = 0.0
    for _ in range(epochs):
        g1 = g2 = gb = 0.0
        for x1, x2, y in rows:
            error = prob(w1, w2, b, x1, x2) - y
            g1 += error * x1
            g2 += error * x2
            gb += error
        # all three parameters move together, from this epoch's gradients
        w1, w2, b = w1 - learning_rate * g1 / n, w2 - learning_rate * g2 / n, b - learning_rate * gb / n

    correct = sum(1 for x1, x2, y in rows if (1 if prob(w1, w2, b, x1, x2) >= 0.5 else 0) == y)
    accuracy = correct / n
    with open(model.path, "w") as f:
        json.dump({"weights": [w1, w2], "bias": b}, f)
    metrics.log_metric("accuracy", accuracy)
    return accuracy


@dsl.component(base_image="python:3.11")
def deploy_model(model: Input[Model], endpoint_name: str) -> str:
    """Pretend to deploy: name the endpoint and the exact model file it serves."""
    import hashlib

    with open(model.path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return f"{endpoint_name}:{digest}"


@dsl.pipeline(name="training-pipeline")
def training_pipeline(n_rows: int = 200, seed: int = 42, epochs: int = 100, learning_rate: float = 0.5,
                      accuracy_threshold: float = 0.8, endpoint_name: str = "demo-endpoint"):
    data_task = prepare_data(n_rows=n_rows, seed=seed)
    data_task.set_caching_options(enable_caching=False)

    train_task = train_model(dataset=data_task.outputs["dataset"], epochs=epochs, learning_rate=learning_rate)
    train_task.set_cpu_limit("2").set_memory_limit("4G").set_retry(num_retries=2)

    with dsl.If(train_task.outputs["Output"] >= accuracy_threshold, name="accuracy-gate"):
        deploy_model(model=train_task.outputs["model"], endpoint_name=endpoint_name)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=training_pipeline, package_path=package_path)
    return package_path
