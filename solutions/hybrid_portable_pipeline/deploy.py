# %% [markdown]
# # One package, two targets (reference solution)
#
# The compiled YAML package is the portable unit: the same file and the same
# arguments run on Vertex AI Pipelines and on a self-managed Kubeflow cluster.

# %%
import yaml
from google.cloud import aiplatform

PARAMETER_TYPES = ("STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT")


def _load_package(template_path: str) -> dict:
    with open(template_path, encoding="utf-8") as handle:
        # A package may carry a second YAML document (platform config): the spec is the first.
        return next(iter(yaml.safe_load_all(handle)))


def _pipeline_name(spec: dict) -> str:
    return spec["pipelineInfo"]["name"]


def _declared(spec: dict) -> dict:
    return spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}) or {}


def _check_known(spec: dict, parameter_values: dict) -> None:
    declared = _declared(spec)
    unknown = sorted(name for name in parameter_values if name not in declared)
    if unknown:
        raise ValueError(
            f"pipeline {_pipeline_name(spec)!r} declares no parameter named {', '.join(unknown)}; "
            f"it declares {', '.join(sorted(declared)) or 'none'}")


# %%
def pipeline_parameters(template_path: str) -> dict:
    parameters = {}
    for name, definition in _declared(_load_package(template_path)).items():
        kind = definition["parameterType"]
        entry = {"type": kind}
        if "defaultValue" in definition:
            default = definition["defaultValue"]
            if kind == "NUMBER_INTEGER" and isinstance(default, float) and default.is_integer():
                default = int(default)  # the IR stores integer defaults as floats
            entry["default"] = default
        parameters[name] = entry
    return parameters


# %%
def vertex_job(template_path: str, project: str, location: str, pipeline_root: str,
               parameter_values: dict, credentials=None) -> aiplatform.PipelineJob:
    spec = _load_package(template_path)
    _check_known(spec, parameter_values)
    return aiplatform.PipelineJob(
        display_name=_pipeline_name(spec),
        template_path=template_path,
        pipeline_root=pipeline_root,
        parameter_values=dict(parameter_values),
        enable_caching=False,
        labels={"target": "vertex"},
        project=project,
        location=location,
        credentials=credentials,
    )


# %%
def onprem_run_request(template_path: str, experiment: str, parameter_values: dict) -> dict:
    spec = _load_package(template_path)
    _check_known(spec, parameter_values)
    return {
        "pipeline_file": template_path,
        "arguments": dict(parameter_values),
        "experiment_name": experiment,
        "run_name": _pipeline_name(spec),
        "enable_caching": False,
    }
