"""The lab's pipeline ("Running Pipelines on Vertex AI"), ported to KFP v2.

Run ``python lab_pipeline.py`` to compile it to ``lab_pipeline.yaml``: the
package your ``deploy.py`` functions read. The public tests compile this same
file and hand the package to your functions.
"""
from typing import NamedTuple

from kfp import compiler, dsl


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


if __name__ == "__main__":
    compiler.Compiler().compile(basic_pipeline, "lab_pipeline.yaml")
    print("wrote lab_pipeline.yaml")
