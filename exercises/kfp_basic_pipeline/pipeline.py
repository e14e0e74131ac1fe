# %% [markdown]
# # The lab, ported to KFP v2: `concat` then `reverse`
#
# Kubeflow Pipelines on Vertex AI. The lab "Running Pipelines on Vertex AI"
# builds a two-step pipeline: `concat` joins two strings, `reverse` mirrors
# the result. With the defaults `"stres"` and `"sed"` the pipeline makes
# `"stressed"`, and its mirror is `"desserts"`.
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check kfp_basic_pipeline pipeline.py`.
#
# Rules that KFP enforces (README, section "Components"):
# * a component's function runs *alone* in its own container: every import it
#   needs goes inside its body;
# * components are called with keyword arguments only: `concat(a=a, b=b)`.

# %%
from typing import NamedTuple

from kfp import compiler, dsl


# %% [markdown]
# ## Components
#
# `concat(a, b)` returns `a + b`. `reverse(a)` returns two named outputs:
# `before` (the string as given) and `after` (the string reversed).

# %%
@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    # TODO: return the two strings joined.
    raise NotImplementedError("concat: see README, section 'Components'")


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    # TODO: return (a, a reversed) as the named outputs `before` and `after`.
    # A plain tuple works; a collections.namedtuple (imported here, inside
    # the function) says which value is which.
    raise NotImplementedError("reverse: see README, section 'Components'")


# %% [markdown]
# ## The pipeline
#
# `basic_pipeline` takes `a` (default `"stres"`) and `b` (default `"sed"`),
# runs `concat` on them, then `reverse` on `concat`'s output.

# %%
# TODO: decorate with @dsl.pipeline(name="basic-pipeline") once the body is
# written (the decorator builds the graph at once: an empty pipeline fails).
def basic_pipeline(a: str = "stres", b: str = "sed"):
    # TODO: call concat with keyword arguments, then reverse on its output
    # (a task's single output is `task.output`).
    raise NotImplementedError("basic_pipeline: see README, section 'The pipeline'")


# %% [markdown]
# ## Compile
#
# Vertex AI Pipelines runs a *package*: the YAML file the KFP compiler writes.

# %%
def compile_pipeline(package_path: str) -> str:
    # TODO: compile basic_pipeline to package_path and return package_path.
    raise NotImplementedError("compile_pipeline: see README, section 'Compile and run'")


# %% [markdown]
# ## Try it locally
#
# `kfp.local` runs each component in a subprocess of this Python, no cluster
# needed (README, section "Compile and run"):
#
# ```python
# from kfp import local
# local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root="./local_outputs")
# run = basic_pipeline()                 # the whole pipeline
# print(concat(a="stres", b="sed").output)
# print(reverse(a="stressed").outputs)   # {'before': ..., 'after': ...}
# ```
