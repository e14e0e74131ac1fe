"""Chen's port of the lab: imports a helper that was never sent."""
from kfp import compiler, dsl

from my_helpers import joined  # only on Chen's laptop


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return joined(a, b)
