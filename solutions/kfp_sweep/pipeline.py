"""Reference solution: a learning-rate sweep with ParallelFor, Collected and an ExitHandler."""
from typing import List

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def train_candidate(learning_rate: float) -> float:
    """A stand-in for training: the score peaks at learning_rate = 10 ** -1.5."""
    import math

    return round(1.0 - (math.log10(learning_rate) + 1.5) ** 2 / 10.0, 6)


@dsl.component(base_image="python:3.11")
def pick_best(learning_rates: List[float], scores: List[float]) -> float:
    """The learning rate with the highest score; on a tie, the smaller learning rate."""
    best_rate, best_score = None, None
    for rate, score in zip(learning_rates, scores):
        if best_score is None or score > best_score or (score == best_score and rate < best_rate):
            best_rate, best_score = rate, score
    return best_rate


@dsl.component(base_image="python:3.11")
def announce(message: str) -> str:
    """The exit task: runs when the sweep ends, whether it succeeded or failed."""
    return message


@dsl.pipeline(name="sweep-pipeline")
def sweep_pipeline(learning_rates: List[float] = [0.001, 0.01, 0.1, 1.0]):
    exit_task = announce(message="sweep finished")
    with dsl.ExitHandler(exit_task):
        with dsl.ParallelFor(learning_rates, parallelism=2) as rate:
            candidate = train_candidate(learning_rate=rate)
        pick_best(learning_rates=learning_rates, scores=dsl.Collected(candidate.output))


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=sweep_pipeline, package_path=package_path)
    return package_path
