# %% [markdown]
# # The lab in KFP v2 — Dana's notebook (unfinished: the pipeline is not compiled yet)

# %%
!pip install kfp==2.17.3

# %%
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return a + b


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    return (a, a[::-1])

# %%
@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    first = concat(a=a, b=b)
    reverse(a=first.output)

# %% [markdown]
# TODO: compile_pipeline
