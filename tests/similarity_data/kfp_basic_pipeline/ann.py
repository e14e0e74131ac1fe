from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    joined = "".join([a, b])
    if not isinstance(joined, str):
        raise TypeError("expected text")
    return joined


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    letters = list(a)
    letters.reverse()
    mirrored = "".join(letters)
    return (a, mirrored)


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    first = concat(a=a, b=b)
    first.set_caching_options(False)
    second = reverse(a=first.output)
    second.set_retry(num_retries=1)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(basic_pipeline, package_path)
    return package_path
