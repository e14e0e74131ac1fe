from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return a + b


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    n = len(a)
    return a, "".join(a[n - 1 - i] for i in range(n))


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    c = concat(a=a, b=b)
    r = reverse(a=c.output)
    r.set_memory_limit("1G")


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(basic_pipeline, package_path)
    return package_path
