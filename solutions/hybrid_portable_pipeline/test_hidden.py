"""Hidden tests for hybrid_portable_pipeline: one package, two targets.

The packages are compiled from the course's own pipelines (``course_pipelines.py``
next to this file: the lab's basic pipeline, a pipeline with parameters of
every type, a pipeline without parameters) by kfp's compiler in the evaluator,
once per batch, and written into the learner's scratch directory. The learner's
``vertex_job`` builds a real ``aiplatform.PipelineJob`` offline with anonymous
credentials; the job never crosses: ``grader/sandbox/recipes/aiplatform.py`` reads its
raw facts (the resource's protobuf bytes, its parent, clients and credentials)
without running any code of the job, and ``grader/judging/evaluators/vertex.py`` turns
them into the resource dict and placement checked here, in a process that
never imported learner code.

Messages are fixed sentences that name the rule broken in the course's terms:
nothing the learner's code returned, raised or named reaches them (no type
names of theirs, no counts, no keys, no messages), and neither do the hidden
values; only built-in exception names do.
"""
import copy
import hashlib
import math
from pathlib import Path

import pytest

from grader.testing import LearnerError, PipelineJobReport, build, dag_tasks, load_yaml

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "course_pipelines.py"

LAB = ("basic_pipeline", "lab_pipeline.yaml", "basic-pipeline")
RETRAIN = ("retrain_pipeline", "retrain_v7.yaml", "fleet-retrain")
REPORT = ("report_pipeline", "report.yaml", "nightly-report")

PROJECT = "hml-fleet-4821"
LOCATION = "asia-northeast1"
ROOT = "gs://hml-fleet-artifacts/pipeline-root"
EXPERIMENT = "fleet-nightly"

RETRAIN_TYPES = {
    "region": "STRING", "epochs": "NUMBER_INTEGER", "threshold": "NUMBER_DOUBLE",
    "dry_run": "BOOLEAN", "tags": "LIST", "owners": "STRUCT", "min_rows": "NUMBER_INTEGER",
    "learning_rate": "NUMBER_DOUBLE", "use_gpu": "BOOLEAN", "features": "LIST",
    "hparams": "STRUCT", "note": "STRING", "min_score": "NUMBER_DOUBLE", "shards": "LIST",
}
RETRAIN_DEFAULTS = {
    "min_rows": 0, "learning_rate": 0.05, "use_gpu": False,
    "features": ["hour", "speed", "battery"], "hparams": {"depth": 4, "l2": 0.01, "loss": "log"},
    "note": "", "min_score": 0.0, "shards": [],
}
RETRAIN_VALUES = {
    "region": "europe-west4", "epochs": 12, "threshold": 0.75, "dry_run": False,
    "tags": ["nightly", "eu"], "owners": {"team": "fleet-ml", "oncall": 2},
    "min_rows": 0, "use_gpu": True, "shards": ["a", "b", "c"], "note": "",
}
ONPREM_KEYS = {"namespace", "pipeline_root", "cache_key", "service_account", "experiment_id"}
HINTS = {
    "DefaultCredentialsError": "the library looked for a Google project or credentials of its own: "
                               "pass this call's project and credentials to PipelineJob, since "
                               "nothing set by aiplatform.init in an earlier call carries over",
    "GoogleAuthError": "the library looked for a Google project or credentials of its own: "
                       "pass this call's project and credentials to PipelineJob, since "
                       "nothing set by aiplatform.init in an earlier call carries over",
    "FileNotFoundError": "open the package at template_path, the path you are given",
}


# --------------------------------------------------------------------------- packages

@pytest.fixture
def package(evaluator, batch_cache, learner):
    """Write one of the course's compiled packages into the learner's scratch; its path there."""
    source = SOURCE.read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]

    def put(which):
        function, filename, _ = which
        data = batch_cache(f"hybrid_portable_pipeline-{function}-{digest}",
                           lambda: evaluator.recipe("pipelines.compile_source", source, function))
        return learner.write_bytes(filename, data), data

    return put


def _canon(value):
    """A value with its JSON type made explicit: 3 and 3.0 are equal, True and 1 are not."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, (list, tuple)):
        return ("list", [_canon(v) for v in value])
    if isinstance(value, dict):
        return ("struct", {str(k): _canon(v) for k, v in value.items()})
    return ("other", repr(value))


def _same(a, b):
    return _canon(a) == _canon(b)


def _failure_text(exc, function):
    hint = HINTS.get(exc.type_name, "")
    return f"{function} raised {exc.type_name} on a valid package" + (f" ({hint})" if hint else "")


# --------------------------------------------------------------------------- calls

def _parameters(learner, path):
    try:
        result = learner.pipeline_parameters(path)
    except LearnerError as exc:
        raise AssertionError(_failure_text(exc, "pipeline_parameters")) from None
    assert isinstance(result, dict), "pipeline_parameters must return a dict"
    return result


@pytest.fixture
def vertex(learner, evaluator):
    """Build a job with the learner's vertex_job; the job as judged in the evaluator.

    A ``PipelineJobReport``: the worker only reads the job's raw facts, the evaluator decides.
    """
    def job(path, values, project=PROJECT, location=LOCATION, root=ROOT):
        try:
            facts = learner.call("vertex_job", path, project, location, root, dict(values),
                                 credentials=build("aiplatform.anonymous_credentials"),
                                 then="aiplatform.job_resource")
        except LearnerError as exc:
            raise AssertionError(_failure_text(exc, "vertex_job")) from None
        try:
            judged = PipelineJobReport.from_wire(evaluator.recipe("vertex.pipeline_job", facts))
        except LearnerError:  # crafted facts can only fail the evaluator, never pass it
            raise AssertionError("the PipelineJob could not be read: build it with "
                                 "aiplatform.PipelineJob(...) and return it as it is") from None
        assert judged.is_pipeline_job, (
            "vertex_job must return a google.cloud.aiplatform.PipelineJob itself (built, not "
            "submitted): not a subclass, a stand-in or anything else")
        assert judged.resource is not None, (
            "the PipelineJob holds no resource the grader can read: build it with "
            "aiplatform.PipelineJob(...) and leave its parts as the library made them")
        return judged

    return job


def _onprem(learner, path, values, experiment=EXPERIMENT):
    try:
        result = learner.onprem_run_request(path, experiment, dict(values))
    except LearnerError as exc:
        raise AssertionError(_failure_text(exc, "onprem_run_request")) from None
    assert isinstance(result, dict), "onprem_run_request must return a dict"
    return result


def _without_caching(spec):
    spec = copy.deepcopy(spec)
    for _, task in dag_tasks(spec):
        task.pop("cachingOptions", None)
    return spec


def _numbers_close(a, b):
    """Structural equality that lets a float from a protobuf Value match the YAML's number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_numbers_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_numbers_close(x, y) for x, y in zip(a, b))
    return a == b


# --------------------------------------------------------------------------- pipeline_parameters

@pytest.mark.points(1)
def test_lab_parameters(learner, package):
    """pipeline_parameters reads the lab's two string parameters and their defaults"""
    path, _ = package(LAB)
    got = _parameters(learner, path)
    expected = {"a": {"type": "STRING", "default": "stres"}, "b": {"type": "STRING", "default": "sed"}}
    assert got == expected, ("pipeline_parameters on the lab's package must give each input "
                             "parameter of the pipeline's root with its parameterType and defaultValue")


@pytest.mark.points(2)
def test_every_parameter_type(learner, package):
    """pipeline_parameters names every parameter with its IR type"""
    path, _ = package(RETRAIN)
    got = _parameters(learner, path)
    missing = sorted(set(RETRAIN_TYPES) - set(got))
    extra = sorted(set(got) - set(RETRAIN_TYPES))
    assert not missing, ("pipeline_parameters left out some of the pipeline's input parameters: "
                         "every entry of root.inputDefinitions.parameters belongs in the result")
    assert not extra, ("pipeline_parameters returned names that are not input parameters of the "
                       "pipeline (only root.inputDefinitions.parameters count, not component inputs)")
    for name, kind in RETRAIN_TYPES.items():
        entry = got[name]
        assert isinstance(entry, dict), "each parameter's entry must be a dict with 'type' and maybe 'default'"
        assert entry.get("type") == kind, (
            "a parameter has the wrong type: use the IR's parameterType names (STRING, "
            "NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN, LIST, STRUCT), not Python's")


@pytest.mark.points(2)
def test_default_only_when_declared(learner, package):
    """pipeline_parameters gives a default exactly for the parameters that have one"""
    path, _ = package(RETRAIN)
    got = _parameters(learner, path)
    for name in RETRAIN_TYPES:
        entry = got.get(name)
        assert isinstance(entry, dict), "pipeline_parameters left out an input parameter"
        if name in RETRAIN_DEFAULTS:
            assert "default" in entry, (
                "a parameter has a default in the package but none in your result: a "
                "default of False, 0, 0.0, '' or [] is still a default (test 'in', not truth)")
        else:
            assert "default" not in entry, (
                "a parameter has no default in the package: omit 'default' instead of "
                "writing None or an empty value")


@pytest.mark.points(2)
def test_default_values(learner, package):
    """pipeline_parameters gives each default with its value and JSON type"""
    path, _ = package(RETRAIN)
    got = _parameters(learner, path)
    for name, default in RETRAIN_DEFAULTS.items():
        entry = got.get(name)
        if not isinstance(entry, dict) or "default" not in entry:
            continue  # reported by test_default_only_when_declared
        assert _same(entry["default"], default), (
            "the default of a parameter is not the package's defaultValue (keep numbers "
            "numbers, booleans booleans, lists and dicts as parsed)")


@pytest.mark.points(1)
def test_pipeline_without_parameters(learner, package):
    """pipeline_parameters returns {} for a pipeline with no parameters"""
    path, _ = package(REPORT)
    explanation = ("a pipeline without parameters has no root.inputDefinitions at all: "
                   "pipeline_parameters must return an empty dict")
    try:
        got = learner.pipeline_parameters(path)
    except LearnerError as exc:
        raise AssertionError(f"pipeline_parameters raised {exc.type_name}; {explanation}") from None
    assert got == {}, explanation


# --------------------------------------------------------------------------- vertex_job

@pytest.mark.points(2)
def test_vertex_project_and_location(vertex, package):
    """vertex_job builds the job in the given project and location"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    assert job.project == PROJECT, (
        "the job is not in the project you were given: pass project to PipelineJob "
        "(or to aiplatform.init inside the call); the job's parent, its project and "
        "location and its API endpoint must all agree")
    assert job.location == LOCATION, (
        "the job is not in the location you were given: pass location to PipelineJob "
        "(without it the library falls back to us-central1)")


@pytest.mark.points(1)
def test_vertex_pipeline_root(vertex, package):
    """vertex_job writes the run's artifacts under the given pipeline root"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    assert job.pipeline_root == ROOT, "the job's runtime config does not use the pipeline_root you were given"


@pytest.mark.points(1)
def test_vertex_display_name(vertex, package):
    """vertex_job names the job after the package's pipeline"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    assert job.display_name == RETRAIN[2], (
        "the job's display_name must be the package's pipeline name (pipelineInfo.name), "
        "not the file name, the Python function's name or a name of your own")


@pytest.mark.points(2)
def test_vertex_caching_off_everywhere(vertex, package):
    """vertex_job switches caching off in every task, sub-DAGs included"""
    path, data = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    spec = job.pipeline_spec
    # Caching is judged on the package's own tasks: a job from another spec proves nothing.
    assert _numbers_close(_without_caching(spec), _without_caching(load_yaml(data))), (
        "caching is judged on the tasks of the package you were given, and the job's pipeline "
        "spec is not that package: build the job from template_path")
    cached = job.cached_tasks()
    assert not cached, (
        "some of the job's tasks still have caching on (tasks inside a condition or a loop "
        "included): build the job with enable_caching=False")


@pytest.mark.points(1)
def test_vertex_labels(vertex, package):
    """vertex_job labels the job target=vertex"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    assert job.labels.get("target") == "vertex", "the job's labels must include {'target': 'vertex'}"


@pytest.mark.points(2)
def test_vertex_typed_parameter_values(vertex, package):
    """vertex_job passes every parameter value with its type"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    values = job.parameter_values
    for name, value in RETRAIN_VALUES.items():
        assert name in values, (
            "the job's runtime config lacks a parameter you were given (a value of False, 0 "
            "or '' is still a value): pass parameter_values through unchanged")
        assert _same(values[name], value), (
            "the job's value of a parameter is not the one given, with its type: pass the "
            "values as they are, not converted to text")
    for name, value in values.items():
        if name not in RETRAIN_VALUES:
            assert name in RETRAIN_DEFAULTS and _same(value, RETRAIN_DEFAULTS[name]), (
                "the job's runtime config sets a parameter you were not given to something "
                "other than its default")


@pytest.mark.points(1)
def test_vertex_credentials_passed_through(vertex, package):
    """vertex_job hands the given credentials to the job"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    assert job.credentials_given, (
        "the job does not carry the credentials object you were given: pass credentials "
        "through to PipelineJob instead of making your own")


@pytest.mark.points(1)
def test_vertex_carries_the_package(vertex, package):
    """vertex_job builds the job from the package itself, unchanged apart from caching"""
    path, data = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    spec = job.pipeline_spec
    original = load_yaml(data)
    assert _numbers_close(_without_caching(spec), _without_caching(original)), (
        "the job's pipeline spec is not the package you were given: build it with "
        "template_path pointing at that package, and change nothing but caching")


@pytest.mark.points(1)
def test_vertex_lab_with_defaults(vertex, package):
    """vertex_job builds the lab's job with no parameter values (defaults apply)"""
    path, _ = package(LAB)
    job = vertex(path, {})
    assert job.display_name == LAB[2], (
        "the lab's job must be named after its pipeline, basic-pipeline")
    values = job.parameter_values
    defaults = {"a": "stres", "b": "sed"}
    assert all(name in defaults and _same(v, defaults[name]) for name, v in values.items()), (
        "with no parameter values given, the job must set no parameter to anything but its default")


@pytest.mark.points(1)
def test_vertex_no_state_between_calls(vertex, package):
    """vertex_job builds each job from its own call's arguments, whatever earlier calls did"""
    path, _ = package(RETRAIN)
    first = dict(RETRAIN_VALUES, region="us-east1", epochs=3)
    vertex(path, first, project="hml-first-project", location="us-east1", root="gs://first/root")
    job = vertex(path, RETRAIN_VALUES)
    values = job.parameter_values
    earlier = (job.project == "hml-first-project", job.location == "us-east1")
    assert not any(earlier), (
        "a second call built its job in the project or location of an earlier call: "
        "aiplatform.init is process-wide, so give PipelineJob this call's project and location")
    assert (job.project, job.location) == (PROJECT, LOCATION), (
        "a second call did not build its job in the project and location it was given")
    # Only what differs between the two calls can show state carried over; anything else has another cause.
    carried = job.pipeline_root == "gs://first/root" or any(
        name in values and _same(values[name], value) and not _same(value, RETRAIN_VALUES[name])
        for name, value in first.items())
    assert not carried, (
        "a second call for the same package carried the pipeline root or parameter values of an "
        "earlier call: build a new job from each call's arguments")
    assert job.pipeline_root == ROOT, "the job's runtime config does not use the pipeline_root you were given"
    texts = [name for name, value in RETRAIN_VALUES.items() if name in values and not _same(values[name], value)
             and isinstance(values[name], str) and not isinstance(value, str)]
    assert not texts, (
        "the job's parameter values are of the wrong type: values given as numbers, booleans, lists or "
        "dicts reached the job as strings (text). Pass parameter_values through unchanged, not converted "
        "to text")
    assert all(name in values and _same(values[name], value) for name, value in RETRAIN_VALUES.items()), (
        "the job's parameter values are not the ones this call was given: pass parameter_values through "
        "unchanged (a value of False, 0 or '' is still a value)")


@pytest.mark.points(1)
def test_vertex_rejects_unknown_parameter(learner, package):
    """vertex_job raises ValueError naming a parameter the package does not declare"""
    path, _ = package(RETRAIN)
    values = dict(RETRAIN_VALUES, learning_rat=0.1)
    try:
        learner.call("vertex_job", path, PROJECT, LOCATION, ROOT, values,
                     credentials=build("aiplatform.anonymous_credentials"),
                     then="aiplatform.job_resource")
    except LearnerError as exc:
        assert isinstance(exc, ValueError), (
            f"an undeclared parameter must raise ValueError, not {exc.type_name}")
        assert "learning_rat" in exc.message, "the ValueError must name the undeclared parameter"
        return
    raise AssertionError("vertex_job accepted a parameter the package does not declare (a typo "
                         "of a real one): raise ValueError naming it")


# --------------------------------------------------------------------------- on-prem target

@pytest.mark.points(2)
def test_onprem_request(learner, package):
    """onprem_run_request gives create_run_from_pipeline_package's arguments"""
    path, _ = package(RETRAIN)
    got = _onprem(learner, path, RETRAIN_VALUES)
    assert got.get("pipeline_file") == path, "pipeline_file must be the package path you were given"
    assert isinstance(got.get("arguments"), dict) and _same(got["arguments"], RETRAIN_VALUES), (
        "arguments must be the parameter values you were given, unchanged")
    assert got.get("experiment_name") == EXPERIMENT, "experiment_name must be the experiment you were given"
    assert got.get("run_name") == RETRAIN[2], (
        "run_name must be the package's pipeline name (pipelineInfo.name), not the file name")
    assert got.get("enable_caching") is False, (
        "enable_caching must be False (None would leave the package's caching on)")
    extra = set(got) - {"pipeline_file", "arguments", "experiment_name", "run_name",
                        "enable_caching"} - ONPREM_KEYS
    assert not extra, ("the request holds keys that kfp.Client.create_run_from_pipeline_package "
                       "does not accept")


@pytest.mark.points(2)
def test_onprem_rejects_unknown_parameter(learner, package):
    """onprem_run_request raises ValueError naming a parameter the package does not declare"""
    path, _ = package(LAB)
    try:
        learner.onprem_run_request(path, EXPERIMENT, {"a": "stres", "suffix": "sed"})
    except LearnerError as exc:
        assert isinstance(exc, ValueError), (
            f"an undeclared parameter must raise ValueError, not {exc.type_name}")
        assert "suffix" in exc.message, "the ValueError must name the undeclared parameter"
        return
    raise AssertionError("onprem_run_request accepted a parameter the package does not declare: "
                         "a Kubeflow cluster would ignore it silently, so raise ValueError naming it")


@pytest.mark.points(1)
def test_both_targets_same_package_and_arguments(learner, vertex, package):
    """Both targets carry the same package, run name and arguments"""
    path, _ = package(RETRAIN)
    job = vertex(path, RETRAIN_VALUES)
    request = _onprem(learner, path, RETRAIN_VALUES)
    runtime = job.parameter_values
    arguments = request.get("arguments") or {}
    assert request.get("pipeline_file") == path, "the on-prem request does not run the package given"
    assert request.get("run_name") == job.display_name, (
        "the on-prem run and the Vertex job must carry the same name: the package's pipeline name")
    assert not any(name in runtime and isinstance(runtime[name], str) and not isinstance(value, str)
                   for name, value in arguments.items()), (
        "the Vertex job's parameter values are strings (text) where the on-prem arguments are numbers, "
        "booleans, lists or dicts: pass parameter_values to PipelineJob unchanged, as onprem_run_request does")
    assert all(name in runtime and _same(runtime[name], value) for name, value in arguments.items()) \
        and set(arguments) == set(RETRAIN_VALUES), (
        "the on-prem arguments and the Vertex job's parameter values differ: both targets must "
        "run with the same arguments")
