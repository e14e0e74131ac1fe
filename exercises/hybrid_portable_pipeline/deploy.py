# %% [markdown]
# # One package, two targets
#
# Building Hybrid ML Systems: a compiled Kubeflow Pipelines package is the
# portable unit of a hybrid system. The same YAML file, with the same
# arguments, runs on Vertex AI Pipelines (managed, in the cloud) and on a
# self-managed Kubeflow cluster (on premises).
#
# Read README.md first. Fill in the TODOs, then run the public tests:
# `hml check hybrid_portable_pipeline deploy.py`.
#
# Nothing here contacts Google Cloud: `vertex_job` builds the job object and
# returns it without submitting it.

# %%
import yaml
from google.cloud import aiplatform

PARAMETER_TYPES = ("STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT")


def load_package(template_path: str) -> dict:
    """The pipeline spec of a compiled KFP YAML package, as a dict.

    A package may hold a second YAML document (platform configuration);
    the pipeline spec is the first.
    """
    with open(template_path, encoding="utf-8") as handle:
        return next(iter(yaml.safe_load_all(handle)))


# %% [markdown]
# ## What the package declares
#
# The pipeline's input parameters are in `root.inputDefinitions.parameters`
# of the spec, each with a `parameterType` and, when it has one, a
# `defaultValue`. The pipeline's name is `pipelineInfo.name`.

# %%
def pipeline_parameters(template_path: str) -> dict:
    # TODO: return {name: {"type": <parameterType>, "default": <defaultValue>}} for every
    # pipeline input parameter; leave "default" out when the parameter has none.
    raise NotImplementedError("read the package's parameters: see README, section 'pipeline_parameters'")


# %% [markdown]
# ## Target 1: Vertex AI Pipelines
#
# `aiplatform.PipelineJob(...)` builds a job from the package. Build it, do
# not call `.submit()` or `.run()`.

# %%
def vertex_job(template_path: str, project: str, location: str, pipeline_root: str,
               parameter_values: dict, credentials=None) -> aiplatform.PipelineJob:
    # TODO: reject parameter names the package does not declare (ValueError naming them),
    # then build the PipelineJob: display name = the pipeline's name, caching off,
    # labels {"target": "vertex"}, and this call's project, location, root and credentials.
    raise NotImplementedError("build the Vertex AI job: see README, section 'vertex_job'")


# %% [markdown]
# ## Target 2: Kubeflow Pipelines on your own cluster
#
# `kfp.Client(host=...).create_run_from_pipeline_package(**request)` would run
# the same package on a self-managed cluster. Return the `request`.

# %%
def onprem_run_request(template_path: str, experiment: str, parameter_values: dict) -> dict:
    # TODO: reject undeclared parameter names (ValueError naming them), then return
    # the keyword arguments of create_run_from_pipeline_package.
    raise NotImplementedError("build the on-prem run request: see README, section 'onprem_run_request'")
