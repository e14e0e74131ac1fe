"""Ben's training pipeline: the components work; the pipeline's settings are incomplete
(caching left on, memory "4" instead of "4G", no retries, deployment not gated)."""
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def prepare_data(n_rows: int, seed: int, dataset: Output[Dataset]):
    import csv
    import random

    rng = random.Random(seed)
    with open(dataset.path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["x1", "x2", "label"])
        for _ in range(n_rows):
            x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
            writer.writerow([repr(x1), repr(x2), int(x1 + 2 * x2 > 0.1)])


@dsl.component(base_image="python:3.11")
def train_model(dataset: Input[Dataset], epochs: int, learning_rate: float,
                model: Output[Model], metrics: Output[Metrics]) -> float:
    import csv
    import json
    import math

    with open(dataset.path, newline="") as source:
        rows = [(float(r["x1"]), float(r["x2"]), int(r["label"])) for r in csv.DictReader(source)]
    w1 = w2 = b = 0.0
    for _ in range(epochs):
        g1 = g2 = gb = 0.0
        for x1, x2, y in rows:
            p = 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b)))
            g1, g2, gb = g1 + (p - y) * x1, g2 + (p - y) * x2, gb + (p - y)
        n = len(rows)
        w1, w2, b = w1 - learning_rate * g1 / n, w2 - learning_rate * g2 / n, b - learning_rate * gb / n
    accuracy = sum((1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b))) >= 0.5) == bool(y) for x1, x2, y in rows) / len(rows)
    with open(model.path, "w") as out:
        json.dump({"weights": [w1, w2], "bias": b}, out)
    metrics.log_metric("accuracy", accuracy)
    return accuracy


@dsl.component(base_image="python:3.11")
def deploy_model(model: Input[Model], endpoint_name: str) -> str:
    import hashlib

    with open(model.path, "rb") as source:
        return f"{endpoint_name}:{hashlib.sha256(source.read()).hexdigest()[:12]}"


@dsl.pipeline(name="training-pipeline")
def training_pipeline(n_rows: int = 200, seed: int = 42, epochs: int = 100, learning_rate: float = 0.5,
                      accuracy_threshold: float = 0.8, endpoint_name: str = "demo-endpoint"):
    data = prepare_data(n_rows=n_rows, seed=seed)
    train = train_model(dataset=data.outputs["dataset"], epochs=epochs, learning_rate=learning_rate)
    train.set_cpu_limit("2").set_memory_limit("4")
    deploy_model(model=train.outputs["model"], endpoint_name=endpoint_name)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=training_pipeline, package_path=package_path)
    return package_path
