from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    out = a
    for ch in b:
        out += ch
    return out


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    import collections

    pair = collections.namedtuple("outputs", "before after")
    backwards = ""
    for ch in a:
        backwards = ch + backwards
    return pair(a, backwards)


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    joined = concat(a=a, b=b)
    joined.set_cpu_limit("1")
    reverse(a=joined.output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(basic_pipeline, package_path=package_path)
    return package_path
