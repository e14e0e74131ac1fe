"""Reference solution: the lab "Running Pipelines on Vertex AI", ported to KFP v2."""
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    """Join two strings."""
    return a + b


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    """Return the string and its mirror image, as two named outputs."""
    from collections import namedtuple

    outputs = namedtuple("outputs", ["before", "after"])
    return outputs(a, a[::-1])


@dsl.pipeline(name="basic-pipeline", description="concat then reverse: stres + sed -> desserts")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    concat_task = concat(a=a, b=b)
    reverse(a=concat_task.output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)
    return package_path
