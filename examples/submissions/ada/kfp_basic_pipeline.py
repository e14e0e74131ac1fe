"""Ada's port of the lab: complete."""
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return f"{a}{b}"


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    from collections import namedtuple

    return namedtuple("outputs", ["before", "after"])(before=a, after="".join(reversed(a)))


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    joined = concat(a=a, b=b)
    reverse(a=joined.output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(basic_pipeline, package_path)
    return package_path
