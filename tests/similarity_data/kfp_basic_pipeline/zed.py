# my pipeline (written from scratch)
from typing import NamedTuple
from kfp import compiler, dsl

@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    # glue the two parts
    result = "".join([a, b])
    if not isinstance(result, str): raise TypeError("text please")
    return result

@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    # flip it
    chars = list(a)
    chars.reverse()
    flipped = "".join(chars)
    return (a, flipped)

@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    join_step = concat(a=a, b=b)
    join_step.set_caching_options(False)
    flip_step = reverse(a=join_step.output)
    flip_step.set_retry(num_retries=1)

def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(basic_pipeline, package_path); return package_path
