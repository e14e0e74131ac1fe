"""KFP v2 port of the lab."""
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return f"{a}{b}"


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    from typing import NamedTuple as NT

    Result = NT("outputs", [("before", str), ("after", str)])
    return Result(before=a, after="".join(reversed(a)))


@dsl.pipeline(name="basic-pipeline", description="lab port")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    reverse(a=concat(a=a, b=b).output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)
    return package_path
