"""The course's own pipelines, compiled for the hidden tests of hybrid_portable_pipeline.

Never shipped to learners. The hidden tests hand this file's text to the
``pipelines.compile_source`` recipe in the evaluator (a worker without learner
code), which compiles one pipeline with kfp's compiler; the YAML package is
then written into the learner's scratch directory. Components follow the
course rules: standard library only, imports inside the function body.

- ``basic_pipeline``: the lab, "basic-pipeline", ``a="stres"``, ``b="sed"``.
- ``retrain_pipeline``: "fleet-retrain", parameters of every type, some
  without defaults, falsy defaults (``False``, ``0``, ``0.0``, ``""``, ``[]``)
  that a truthiness test would drop, and tasks nested in a condition and a
  loop, so that "caching off in every task" reaches inside sub-DAGs.
- ``report_pipeline``: "nightly-report", no parameters at all.
"""
from typing import NamedTuple

from kfp import dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return a + b


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    from collections import namedtuple

    outputs = namedtuple("outputs", ["before", "after"])
    return outputs(a, a[::-1])


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    first = concat(a=a, b=b)
    reverse(a=first.output)


@dsl.component(base_image="python:3.11")
def plan_training(region: str, min_rows: int, epochs: int, learning_rate: float, use_gpu: bool,
                  dry_run: bool, features: list, tags: list, hparams: dict, owners: dict,
                  note: str, min_score: float) -> bool:
    import json

    plan = {"region": region, "rows": min_rows, "epochs": epochs, "lr": learning_rate,
            "gpu": use_gpu, "features": features, "tags": tags, "hparams": hparams,
            "owners": owners, "note": note, "min_score": min_score}
    print(json.dumps(plan))
    return not dry_run


@dsl.component(base_image="python:3.11")
def train_shard(shard: str, epochs: int, learning_rate: float) -> float:
    return round(1.0 / (1.0 + epochs * learning_rate + len(shard)), 6)


@dsl.component(base_image="python:3.11")
def publish(region: str, threshold: float) -> str:
    return f"{region}:{threshold}"


@dsl.pipeline(name="fleet-retrain", description="Nightly retraining of the fleet's models")
def retrain_pipeline(
    region: str,
    epochs: int,
    threshold: float,
    dry_run: bool,
    tags: list,
    owners: dict,
    min_rows: int = 0,
    learning_rate: float = 0.05,
    use_gpu: bool = False,
    features: list = ["hour", "speed", "battery"],
    hparams: dict = {"depth": 4, "l2": 0.01, "loss": "log"},
    note: str = "",
    min_score: float = 0.0,
    shards: list = [],
):
    plan = plan_training(region=region, min_rows=min_rows, epochs=epochs,
                         learning_rate=learning_rate, use_gpu=use_gpu, dry_run=dry_run,
                         features=features, tags=tags, hparams=hparams, owners=owners,
                         note=note, min_score=min_score)
    with dsl.If(plan.output == True):  # noqa: E712 - a pipeline condition, not Python truth
        with dsl.ParallelFor(shards, parallelism=2) as shard:
            train_shard(shard=shard, epochs=epochs, learning_rate=learning_rate)
        publish(region=region, threshold=threshold)


@dsl.component(base_image="python:3.11")
def write_report() -> str:
    import datetime

    return datetime.date.today().isoformat()


@dsl.pipeline(name="nightly-report")
def report_pipeline():
    write_report()
