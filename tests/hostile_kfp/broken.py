# A self-containment mistake (components call a module-level helper): it earns what it earns.
from typing import NamedTuple
from kfp import compiler, dsl

def _join(a, b):          # module-level helper: NOT shipped with the component (README rule 1)
    return a + b

@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return _join(a, b)

@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    return (a, _join("", a)[::-1])

@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    t = concat(a=a, b=b)
    reverse(a=t.output)

def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)
    return package_path
