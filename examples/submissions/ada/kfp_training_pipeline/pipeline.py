"""Ada's training pipeline: complete, sent as a folder."""
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def prepare_data(n_rows: int, seed: int, dataset: Output[Dataset]):
    import random

    rng = random.Random(seed)
    lines = ["x1,x2,label"]
    for _ in range(n_rows):
        x1 = rng.uniform(-1, 1)
        x2 = rng.uniform(-1, 1)
        lines.append(f"{x1!r},{x2!r},{1 if x1 + 2 * x2 > 0.1 else 0}")
    with open(dataset.path, "w") as out:
        out.write("\n".join(lines) + "\n")


@dsl.component(base_image="python:3.11")
def train_model(dataset: Input[Dataset], epochs: int, learning_rate: float,
                model: Output[Model], metrics: Output[Metrics]) -> float:
    import json
    import math

    with open(dataset.path) as source:
        rows = [line.split(",") for line in source.read().split()[1:]]
    data = [(float(a), float(b), int(c)) for a, b, c in rows]

    def sigmoid(z):
        return 1.0 / (1.0 + math.exp(-z))

    w1 = w2 = bias = 0.0
    for _ in range(epochs):
        errors = [(sigmoid(w1 * x1 + w2 * x2 + bias) - y, x1, x2) for x1, x2, y in data]
        g1 = sum(e * x1 for e, x1, _ in errors) / len(data)
        g2 = sum(e * x2 for e, _, x2 in errors) / len(data)
        gb = sum(e for e, _, _ in errors) / len(data)
        w1, w2, bias = w1 - learning_rate * g1, w2 - learning_rate * g2, bias - learning_rate * gb

    hits = sum((sigmoid(w1 * x1 + w2 * x2 + bias) >= 0.5) == (y == 1) for x1, x2, y in data)
    accuracy = hits / len(data)
    with open(model.path, "w") as out:
        json.dump({"weights": [w1, w2], "bias": bias}, out)
    metrics.log_metric("accuracy", accuracy)
    return accuracy


@dsl.component(base_image="python:3.11")
def deploy_model(model: Input[Model], endpoint_name: str) -> str:
    import hashlib

    with open(model.path, "rb") as source:
        return endpoint_name + ":" + hashlib.sha256(source.read()).hexdigest()[:12]


@dsl.pipeline(name="training-pipeline")
def training_pipeline(n_rows: int = 200, seed: int = 42, epochs: int = 100, learning_rate: float = 0.5,
                      accuracy_threshold: float = 0.8, endpoint_name: str = "demo-endpoint"):
    data = prepare_data(n_rows=n_rows, seed=seed).set_caching_options(False)
    train = train_model(dataset=data.outputs["dataset"], epochs=epochs, learning_rate=learning_rate)
    train.set_cpu_limit("2")
    train.set_memory_limit("4G")
    train.set_retry(num_retries=2)
    with dsl.If(train.outputs["Output"] >= accuracy_threshold):
        deploy_model(model=train.outputs["model"], endpoint_name=endpoint_name)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=training_pipeline, package_path=package_path)
    return package_path
