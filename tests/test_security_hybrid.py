"""The trust boundary in the hybrid exercises: lying Vertex jobs and hidden-feedback leaks.

Every hostile submission here is graded for real (sandboxed worker, real kfp
and google-cloud-aiplatform, offline) and compared with its honest part: the
same submission without the trick. A trick may never earn more than that, and
no hidden input the learner's code was handed may reach any test's feedback.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grading_helpers import hidden_failures, hidden_test


ROOT = Path(__file__).resolve().parents[1]
PORTABLE = "hybrid_portable_pipeline"
PLACEMENT = "hybrid_placement"
DEPLOY = (ROOT / "solutions" / PORTABLE / "deploy.py").read_text()
PLACE = (ROOT / "solutions" / PLACEMENT / "placement.py").read_text()

VERTEX_TESTS = {
    "test_vertex_project_and_location", "test_vertex_pipeline_root", "test_vertex_display_name",
    "test_vertex_caching_off_everywhere", "test_vertex_labels", "test_vertex_typed_parameter_values",
    "test_vertex_credentials_passed_through", "test_vertex_carries_the_package",
    "test_vertex_lab_with_defaults", "test_vertex_no_state_between_calls",
    "test_both_targets_same_package_and_arguments",
}

# --------------------------------------------------------------------------- lying Vertex jobs

# The reference's right job is kept as ``_good_job``; ``vertex_job`` returns a job
# wrong in every respect the hidden tests check: another name, root, labels, values
# as text, caching on, another project and location, home-made credentials, and a
# package that is not the one given (its sdkVersion changed).
WRONG_JOB = '''

import os as _os
import tempfile as _tempfile

import google.auth.credentials as _auth

_good_job = vertex_job


def _wrong_job(template_path, project, location, pipeline_root, parameter_values):
    spec = _load_package(template_path)
    _check_known(spec, parameter_values)
    spec["sdkVersion"] = "kfp-0.0.0"
    handle, other = _tempfile.mkstemp(suffix=".yaml")
    with _os.fdopen(handle, "w") as out:
        yaml.safe_dump(spec, out)
    return aiplatform.PipelineJob(
        display_name="another-name", template_path=other, pipeline_root="gs://another/root",
        parameter_values={k: str(v) for k, v in parameter_values.items()}, enable_caching=True,
        labels={"target": "onprem"}, project="another-project", location="us-central1",
        credentials=_auth.AnonymousCredentials())


def _both(template_path, project, location, pipeline_root, parameter_values, credentials):
    good = _good_job(template_path, project, location, pipeline_root, parameter_values, credentials)
    return good, _wrong_job(template_path, project, location, pipeline_root, parameter_values)


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    return _wrong_job(template_path, project, location, pipeline_root, parameter_values)
'''

# Each trick returns the wrong job (or a stand-in for it) dressed up as the right one.
TRICKS = {
    "to_dict and attributes copied from the right job": '''
def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    told = good.to_dict()
    for name in ("project", "location", "credentials", "_parent", "job_id"):
        setattr(bad, name, getattr(good, name))
    bad.to_dict = lambda: told
    aiplatform.PipelineJob.to_dict = lambda self: told
    return bad
''',
    "a class __getattribute__ that answers from the right job": '''
_ANSWERS = {}


def _answer(self, name):
    good = _ANSWERS.get(id(self))
    return object.__getattribute__(good if good is not None else self, name)


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    _ANSWERS[id(bad)] = good
    aiplatform.PipelineJob.__getattribute__ = _answer
    return bad
''',
    "a subclass whose attributes are the right job's": '''
class _Lying(aiplatform.PipelineJob, experiment_loggable_schemas=()):
    def __getattribute__(self, name):
        good = object.__getattribute__(self, "__dict__").get("_lie")
        return object.__getattribute__(good if good is not None else self, name)


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    bad.__class__ = _Lying
    bad._lie = good
    return bad
''',
    "a stand-in with a __class__ property, isinstance and type patched": '''
import builtins as _builtins

_real_type, _real_isinstance = type, isinstance


class _StandIn:
    def __init__(self, good):
        self._good = good

    @property
    def __class__(self):
        return aiplatform.PipelineJob

    def __getattr__(self, name):
        return getattr(self._good, name)


def _type(*args):
    if len(args) == 1 and _real_type(args[0]) is _StandIn:
        return aiplatform.PipelineJob
    return _real_type(*args)


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, _ = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    _builtins.isinstance = lambda obj, cls: True if _real_type(obj) is _StandIn else _real_isinstance(obj, cls)
    _builtins.type = _type
    return _StandIn(good)
''',
    "the resource or its protobuf replaced by stand-ins holding the right one": '''
_calls = []


class _Resource:
    def __init__(self, good, kind):
        object.__setattr__(self, "_pb", good._pb)
        object.__setattr__(self, "_kind", kind)

    @property
    def __class__(self):
        return object.__getattribute__(self, "_kind")

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "_pb"), name)


class _Raw:
    def __init__(self, good):
        self._good = good

    @property
    def __class__(self):
        return type(self._good)

    def SerializeToString(self, **options):
        return self._good.SerializeToString(**options)

    def __getattr__(self, name):
        return getattr(self._good, name)


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    _calls.append(1)
    if len(_calls) % 2:  # the proto-plus wrapper replaced
        bad.__dict__["_gca_resource"] = _Resource(good._gca_resource, type(bad._gca_resource))
    else:  # the wrapper kept, the protobuf inside it replaced
        object.__getattribute__(bad._gca_resource, "__dict__")["_pb"] = _Raw(good._gca_resource._pb)
    return bad
''',
    "the protobuf classes' serialize methods patched to give the right job's bytes": '''
import proto as _proto
from google._upb import _message as _upb
from google.protobuf import json_format as _json_format

_GOOD = {}
_real_serialize, _real_to_dict = _upb.Message.SerializeToString, _json_format.MessageToDict


def _good_bytes(message, **options):
    return _GOOD["bytes"]


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    _GOOD["bytes"] = _real_serialize(good._gca_resource._pb)
    told = _real_to_dict(good._gca_resource._pb)
    type(bad._gca_resource._pb).SerializeToString = _good_bytes
    _upb.Message.SerializeToString = _good_bytes
    type(type(bad._gca_resource)).serialize = lambda cls, instance: _GOOD["bytes"]
    type(type(bad._gca_resource)).to_dict = lambda cls, instance, **options: told
    _json_format.MessageToDict = lambda message, **options: told
    return bad
''',
}

@pytest.fixture(scope="module")
def honest_wrong_job(request):
    """The wrong job without any trick, graded once: what every trick is compared with."""
    cache = {}

    def get(grade_source):
        if "result" not in cache:
            cache["result"] = grade_source(PORTABLE, DEPLOY + WRONG_JOB)
        return cache["result"]

    return get


def test_honest_wrong_job_fails_every_vertex_check(grade_source, honest_wrong_job):
    """The baseline the tricks are measured against: a job wrong in every respect the hidden
    tests check loses every Vertex point and keeps the rest (so a trick that helped would show)."""
    result = honest_wrong_job(grade_source)
    assert result.error is None, result.error
    assert VERTEX_TESTS <= hidden_failures(result)
    assert "test_vertex_rejects_unknown_parameter" not in hidden_failures(result)
    assert 0 < result.score < result.max_score


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_lying_vertex_job_earns_no_more_than_its_honest_part(grade_source, honest_wrong_job, trick):
    """A wrong Vertex job dressed up as the right one (patched to_dict and attributes, a lying
    __getattribute__, an isinstance-fooling subclass or stand-in, replaced resource objects,
    patched protobuf serialisers) earns no more than the same wrong job without the trick: the
    worker reads the job with code captured before learner code ran, the evaluator judges."""
    honest = honest_wrong_job(grade_source)
    result = grade_source(PORTABLE, DEPLOY + WRONG_JOB + TRICKS[trick])
    assert result.error is None, result.error
    assert result.score <= honest.score, [(t.name, t.score) for t in result.tests if t.score]
    assert VERTEX_TESTS <= hidden_failures(result)
    # A trick that broke the whole submission would prove nothing: its honest part still counts.
    assert hidden_test(result, "test_vertex_rejects_unknown_parameter").score > 0


TAMPER_RECIPE = '''
import grader.sandbox.recipes.aiplatform as _recipe


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    good, bad = _both(template_path, project, location, pipeline_root, parameter_values, credentials)
    _recipe._JOB = object  # never the type of anything: the recipe would refuse every job
    _recipe._type = lambda value: object if value is bad else type(value)
    _recipe._fields = lambda instance: vars(good) if instance is bad else object.__getattribute__(instance, "__dict__")
    return bad
'''


def test_recipe_rewritten_during_the_call_earns_nothing(grade_source, honest_wrong_job):
    """A vertex_job that rewrites the then-recipe's captured helpers while it runs (so that the
    wrong job is read as the right one) earns no more than the honest wrong job."""
    honest = honest_wrong_job(grade_source)
    result = grade_source(PORTABLE, DEPLOY + WRONG_JOB + TAMPER_RECIPE)
    assert result.score <= honest.score
    assert VERTEX_TESTS <= hidden_failures(result)


# --------------------------------------------------------------------------- hidden-feedback leaks

# Values the hidden tests hand to the learner's code, as text and as the identifiers
# a class name could spell them.
PORTABLE_SECRETS = ("hml-fleet-4821", "hml_fleet_4821", "asia-northeast1", "asia_northeast1",
                    "hml-fleet-artifacts", "hml_fleet_artifacts", "europe-west4", "europe_west4",
                    "fleet-nightly", "fleet_nightly", "fleet-ml", "fleet_ml", "hml-first-project",
                    "hml_first_project", "learning_rat")

# Every function remembers what it was given and tries to carry it out: as the class name of
# what vertex_job returns, as dict keys and counts, as exception messages, and through a module
# __getattr__ standing in for onprem_run_request. LEAK = False is the same submission with
# plain names and messages: its honest part.
PORTABLE_LEAKER = '''
import re as _re

LEAK = True
_SEEN = []
_reference_parameters = pipeline_parameters


def _remember(*values):
    for value in values:
        if isinstance(value, dict):
            _remember(*value.keys(), *value.values())
        elif isinstance(value, (list, tuple)):
            _remember(*value)
        else:
            _SEEN.append(str(value))


def _word():
    return ("_".join(_re.sub(r"\\W", "_", seen) for seen in _SEEN[-12:]) or "nothing")[:300] if LEAK else "plain"


def pipeline_parameters(template_path):
    got = _reference_parameters(template_path)
    if not got:
        raise ValueError(" ".join(_SEEN) if LEAK else "none")
    # Drop as many parameters as the last value seen has characters, and add keys of its text.
    dropped = dict(list(got.items())[len(_SEEN[-1]) % len(got) if _SEEN else 0:])
    dropped[_word()] = {"type": _word(), "default": _word()}
    for name in dropped:
        dropped[name] = {"type": _word()}
    return dropped


class _Carrier:
    pass


def vertex_job(template_path, project, location, pipeline_root, parameter_values, credentials=None):
    _remember(project, location, pipeline_root, parameter_values)
    if "learning_rat" in parameter_values:  # named in both variants: that check is honest
        raise ValueError(" ".join(_SEEN) if LEAK else "learning_rat")
    if len(_SEEN) % 3 == 0:
        raise RuntimeError(" ".join(_SEEN) if LEAK else "no")
    # This call's own project as a class name: an identifier short enough to be shown.
    carrier = type(_re.sub(r"\\W", "_", project), (_Carrier,), {}) if LEAK else _Carrier
    return carrier()


def __getattr__(name):
    if name == "onprem_run_request":
        raise NameError(" ".join(_SEEN) if LEAK else "no such function")
    raise AttributeError(name)


del onprem_run_request
'''

PLACEMENT_SECRETS = ("64.25", "256.5", "250.5", "1002", "99.5", "100.5", "1000001", "999999",
                     "5000000", "sometimes", "eu_only", "-256", "-0.5")

# place() remembers every workload and answers with what it saw: as its training value,
# reasons, extra keys and exception messages; its inference and serving are the contract's
# values, swapped, so that every rule check fails on a value the contract allows. LEAK = False
# is the same submission with plain text: its honest part.
PLACEMENT_LEAKER = '''
LEAK = True
_SEEN = []
_reference_place = place
_SWAP = {"edge": "edge_quantized", "edge_quantized": "edge", "infeasible": "edge",
         "cloud": "on_prem", "on_prem": "cloud", "static": "dynamic", "dynamic": "static"}


def _said():
    return " ".join(_SEEN[-20:]) if LEAK else "plain"


def place(workload):
    _SEEN.extend(f"{key}={value}" for key, value in workload.items())
    try:
        answer = _reference_place(workload)
    except ValueError as exc:
        raise ValueError(f"{exc} {_said()}") from None
    if "team" in workload or "notes" in workload:
        raise LookupError(_said())
    answer["inference"] = _SWAP[answer["inference"]]
    answer["serving"] = _SWAP[answer["serving"]]
    answer["training"] = _said()
    answer["reasons"] = [_said()]
    answer[_said()] = _said()
    return answer
'''


def _outputs(result) -> str:
    """Every hidden test's name and feedback (public feedback may show the learner's own text)."""
    return "\n".join(f"{t.name}: {t.output}" for t in result.tests if t.visibility == "hidden")


def _assert_no_secret(result, secrets) -> None:
    text = _outputs(result)
    shown = [secret for secret in secrets if secret in text]
    assert not shown, f"hidden inputs reached the feedback: {shown}\n{text}"


def test_portable_pipeline_feedback_carries_no_hidden_input(grade_source):
    """Hidden inputs that a submission saw in earlier calls (project, location, pipeline root,
    parameter values) cannot be carried into any test's feedback through the class name of the
    job, returned dict keys and counts, exception messages or a module __getattr__, and the
    attempt earns no more than the same submission without it."""
    leaking = grade_source(PORTABLE, DEPLOY + PORTABLE_LEAKER)
    honest = grade_source(PORTABLE, DEPLOY + PORTABLE_LEAKER.replace("LEAK = True", "LEAK = False"))
    assert leaking.error is None and honest.error is None, leaking.error or honest.error
    _assert_no_secret(leaking, PORTABLE_SECRETS)
    assert leaking.score <= honest.score
    assert VERTEX_TESTS <= hidden_failures(leaking)  # the carriers did reach the hidden tests


def test_placement_feedback_carries_no_hidden_workload(grade_source):
    """Workload values that place() saw (boundary sizes, budgets, input counts, invalid values)
    cannot be carried into any test's feedback through its answers, reasons, extra keys, the
    type of its answer or its exception messages, and the grader's own messages print none of
    them either; the attempt earns no more than the same submission without it."""
    leaking = grade_source(PLACEMENT, PLACE + PLACEMENT_LEAKER)
    honest = grade_source(PLACEMENT, PLACE + PLACEMENT_LEAKER.replace("LEAK = True", "LEAK = False"))
    assert leaking.error is None and honest.error is None, leaking.error or honest.error
    _assert_no_secret(leaking, PLACEMENT_SECRETS)
    assert leaking.score <= honest.score
    assert len(hidden_failures(leaking)) >= 10  # the answers did reach the hidden rule checks
