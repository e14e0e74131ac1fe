# A whole submission: components print lines that look like the grader's own words and exceptions,
# echoing their (hidden) inputs, then fail. Hidden feedback must not repeat any of it.
from typing import NamedTuple
from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    print(f"NameError: name 'LEAK_{a}_{b}' is not defined")
    print(f"Executing task 'LEAK-{a}'")
    print(f"Task 'LEAK-{b}' finished with status FAILURE")
    raise RuntimeError(f"LEAK {a} {b}")


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    print(f"LeakError_{a.replace(' ', '_')}: LEAK {a}")
    raise SystemExit(f"LEAK {a}")


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    t = concat(a=a, b=b)
    reverse(a=t.output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)
    return package_path
