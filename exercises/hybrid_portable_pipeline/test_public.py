"""Public tests for hybrid_portable_pipeline, on the lab's package.

The package is compiled from ``lab_pipeline.py`` (next to this file) by kfp's
compiler in the evaluator and written into your worker's scratch directory.
Your ``vertex_job`` is called offline with anonymous credentials; the job it
builds is read as data in your worker (its resource as protobuf bytes, where
it would be created, its credentials) and judged in the evaluator.
"""
import hashlib
from pathlib import Path

import pytest

from grader.testing import LearnerError, PipelineJobReport, build

SOURCE = Path(__file__).resolve().with_name("lab_pipeline.py")
PROJECT, LOCATION, ROOT = "my-project", "europe-west1", "gs://my-bucket/pipeline-root"


@pytest.fixture
def lab_package(evaluator, batch_cache, learner):
    source = SOURCE.read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    data = batch_cache(f"hybrid_portable_pipeline-lab-{digest}",
                       lambda: evaluator.recipe("pipelines.compile_source", source, "basic_pipeline"))
    return learner.write_bytes("lab_pipeline.yaml", data)


def _job(learner, evaluator, path, values):
    """The learner's job as the evaluator judged it from the raw facts the worker read."""
    facts = learner.call("vertex_job", path, PROJECT, LOCATION, ROOT, values,
                         credentials=build("aiplatform.anonymous_credentials"),
                         then="aiplatform.job_resource")
    job = PipelineJobReport.from_wire(evaluator.recipe("vertex.pipeline_job", facts))
    assert job.is_pipeline_job, ("vertex_job must return an aiplatform.PipelineJob itself "
                                 "(not a subclass or a stand-in)")
    assert job.resource is not None, "the PipelineJob holds no resource: build it with aiplatform.PipelineJob(...)"
    return job


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'pipeline_parameters': the parameters are the entries of `root.inputDefinitions.parameters` in the "
    "spec that `load_package` returns.",
    'For each entry, `"type"` is its `parameterType` and `"default"` its `defaultValue`; build a new dict with '
    "just those two keys, renamed.",
    '`{name: {"type": d["parameterType"], "default": d["defaultValue"]}}` for each `name, d`, leaving `"default"` '
    "out when the entry has no `defaultValue`.",
)
def test_lab_parameters(learner, lab_package):
    """pipeline_parameters reads the lab's parameters a and b"""
    got = learner.pipeline_parameters(lab_package)
    expected = {"a": {"type": "STRING", "default": "stres"}, "b": {"type": "STRING", "default": "sed"}}
    assert got == expected, f"expected {expected}, got {got}"


@pytest.mark.points(2)
@pytest.mark.hints(
    "README 'vertex_job': build `aiplatform.PipelineJob(...)` from the package and return it without `.submit()` "
    "or `.run()`; every value comes from this call's arguments.",
    "The display name is the package's `pipelineInfo.name`, not the file's name; pass `project`, `location`, "
    "`pipeline_root`, `parameter_values` and `credentials` to `PipelineJob` itself.",
    'The remaining keywords are `template_path=template_path`, `enable_caching=False` and `labels={"target": '
    "\"vertex\"}`; do not use `aiplatform.init` for this call's values.",
)
def test_lab_vertex_job(learner, evaluator, lab_package):
    """vertex_job builds the lab's job: name, project, location, root, values, caching, labels"""
    job = _job(learner, evaluator, lab_package, {"a": "des", "b": "serts"})
    assert job.display_name == "basic-pipeline", (
        f"display name: expected the pipeline's name 'basic-pipeline', got {job.display_name!r}")
    assert (job.project, job.location) == (PROJECT, LOCATION), (
        f"expected project and location {(PROJECT, LOCATION)}, got {(job.project, job.location)}")
    assert job.pipeline_root == ROOT, f"pipeline root: expected {ROOT!r}, got {job.pipeline_root!r}"
    assert job.parameter_values == {"a": "des", "b": "serts"}, (
        f"parameter values: expected {{'a': 'des', 'b': 'serts'}}, got {dict(job.parameter_values)}")
    cached = job.cached_tasks()
    assert not cached, f"caching is still on in task(s) {cached}: use enable_caching=False"
    assert job.labels.get("target") == "vertex", f"labels must include {{'target': 'vertex'}}, got {dict(job.labels)}"
    assert job.credentials_given, "pass the credentials you were given to PipelineJob"


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'onprem_run_request' shows the dict to return: five keys, named like the keyword arguments of "
    "`create_run_from_pipeline_package`.",
    "`run_name` is the pipeline's name read from the package (`pipelineInfo.name`), `pipeline_file` the path you "
    "are given, `experiment_name` the `experiment`, `enable_caching` is `False`.",
    "`arguments` is `parameter_values` unchanged: a parameter left out (here `b`) is fine, the platform uses its "
    "default or reports it.",
)
def test_lab_onprem_request(learner, lab_package):
    """onprem_run_request gives the arguments of create_run_from_pipeline_package"""
    got = learner.onprem_run_request(lab_package, "hybrid-lab", {"a": "des"})
    expected = {"pipeline_file": lab_package, "arguments": {"a": "des"}, "experiment_name": "hybrid-lab",
                "run_name": "basic-pipeline", "enable_caching": False}
    assert got == expected, f"expected {expected}, got {got}"


@pytest.mark.points(1)
@pytest.mark.hints(
    "README 'Unknown parameters': compare the names in `parameter_values` with the parameters the package "
    "declares.",
    "A name that is not a key of `root.inputDefinitions.parameters` is an error: raise `ValueError` before "
    "building the request.",
    'Put the offending name in the message, e.g. `raise ValueError(f"unknown parameter {name!r}")`; do the same '
    "check in `vertex_job`.",
)
def test_lab_unknown_parameter(learner, lab_package):
    """onprem_run_request rejects an undeclared parameter, naming it"""
    try:
        learner.onprem_run_request(lab_package, "hybrid-lab", {"a": "des", "prefix": "x"})
    except LearnerError as exc:
        assert isinstance(exc, ValueError), f"expected ValueError, got {exc.type_name}: {exc.message}"
        assert "prefix" in exc.message, f"the message must name the parameter 'prefix': {exc.message!r}"
        return
    raise AssertionError("onprem_run_request accepted parameter 'prefix', which the lab's pipeline does not declare")
