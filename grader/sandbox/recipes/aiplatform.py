"""Recipes for Vertex AI (google-cloud-aiplatform) objects, run inside the worker.

A learner's ``vertex_job`` builds a real ``aiplatform.PipelineJob`` offline:
nothing is submitted and nothing reaches the network, but the library needs
credentials, so tests pass ``build("aiplatform.anonymous_credentials")``.
The job itself never crosses the trust boundary: ``job_resource`` (a ``then``
recipe) reads it as raw facts, and ``grader/judging/evaluators/vertex.py`` judges
those facts in a process that never imported learner code.

The job lives in the learner's process, so everything about it is the
learner's to replace: ``to_dict``, the ``project`` and ``location``
properties, ``isinstance`` (a subclass, a ``__class__`` property), the proto
classes' own ``serialize`` methods, even ``builtins.type``. So this module
captures, when it is imported (the exercise preloads it, before any learner
code runs), the classes and C-level functions it needs, and
``job_resource`` calls nothing else: exact types, instance dictionaries read
with ``object.__getattribute__``, the resource's protobuf serialised by
upb's own ``SerializeToString``. What crosses is bytes and strings; the
evaluator parses them.

``aiplatform.init`` changes process-wide state (project, location,
credentials, staging bucket, experiment). Building the credentials first
resets that state, so one call's ``init`` cannot leak into the next call in
the same worker: every graded call starts from a library that knows nothing.
"""
from __future__ import annotations

import sys
from typing import Any

# Builtins as they were at import: learner code can rebind ``builtins.type``,
# and a module global shadows the builtins module (the worker restores these
# globals before every request).
_type, _dict, _str, _bytes, _len, _getattr_raw = type, dict, str, bytes, len, object.__getattribute__

# Captured only where the exercise preloaded aiplatform: other exercises'
# workers import this module too, and must not pay for importing aiplatform.
if "google.cloud.aiplatform" in sys.modules:
    from google.api_core.client_options import ClientOptions as _CLIENT_OPTIONS
    from google.cloud.aiplatform import utils as _utils
    from google.cloud.aiplatform.pipeline_jobs import PipelineJob as _JOB
    from google.cloud.aiplatform_v1.types.pipeline_job import PipelineJob as _RESOURCE

    _CLIENT = _utils.PipelineJobClientWithOverride
    _WRAPPED_CLIENT = _utils.ClientWithOverride.WrappedClient
    _RAW_RESOURCE = _RESOURCE.pb()
    # With upb this is the C method of the message base class: a learner can
    # rebind the name on any class, but not change what this object does.
    _SERIALIZE = _RAW_RESOURCE.SerializeToString
    del _utils
else:
    _JOB = None

# The credentials object most recently handed to a learner function, to tell
# whether the job carries the very object it was given.
_issued: list[Any] = []


def reset(ctx=None) -> None:
    """Forget everything ``aiplatform.init`` set in this process.

    Also tell google-auth not to probe the GCE metadata server: the sandbox
    has no network, so a job built without project or credentials would wait
    about three seconds for the probe before failing, on every call.
    """
    from google.cloud.aiplatform import initializer

    initializer.global_config.__init__()
    try:
        from google.auth.compute_engine import _metadata

        _metadata._NO_GCE_CHECK = True
    except Exception:  # noqa: BLE001 - a layout change only costs time, never correctness
        pass
    try:
        from google.cloud.aiplatform.metadata import metadata

        metadata._experiment_tracker.reset()
    except Exception:  # noqa: BLE001 - older or newer layouts: the config reset is what matters
        pass


def anonymous_credentials(ctx):
    """A ``build`` recipe: fresh anonymous credentials, after resetting aiplatform's global state."""
    import google.auth.credentials

    reset()
    credentials = google.auth.credentials.AnonymousCredentials()
    _issued[:] = [credentials]
    return credentials


def job_resource(ctx, job) -> dict:
    """A ``then`` recipe: the facts of a PipelineJob, read without running any of its code.

    ``{"is_pipeline_job": False}`` unless ``job``'s type is exactly
    ``aiplatform.PipelineJob``; else ``{"is_pipeline_job": True, "resource":
    bytes | None, "parent", "project", "location": str | None, "endpoints":
    [str | None], "credentials": {"job": bool, "clients": [bool]}}``:
    ``resource`` is the job's ``PipelineJob`` protobuf serialised, ``parent``
    where ``submit`` would create it, ``endpoints`` the API endpoints of its
    clients, ``credentials`` whether the job and each client hold the very
    credentials object this request issued. ``vertex.pipeline_job`` in the
    evaluator turns these facts into the job's resource dict and placement.
    """
    if _JOB is None:
        raise RuntimeError("aiplatform was not preloaded before the learner's module: "
                           "add grader.sandbox.recipes.aiplatform to the exercise's preload")
    if _type(job) is not _JOB:
        return {"is_pipeline_job": False}
    fields = _fields(job)
    clients = _clients(fields.get("api_client"))
    issued = _issued[0] if _len(_issued) == 1 else _MISSING
    return {
        "is_pipeline_job": True,
        "resource": _resource_bytes(fields.get("_gca_resource")),
        "parent": _text(fields.get("_parent")),
        "project": _text(fields.get("project")),
        "location": _text(fields.get("location")),
        "endpoints": [_endpoint(client) for client in clients],
        "credentials": {
            "job": fields.get("credentials") is issued,
            "clients": [client.get("_credentials") is issued for client in clients],
        },
    }


_MISSING = object()  # never handed out, so "is" against it is always False


def _fields(instance) -> dict:
    """An object's own attributes, without its class's properties or ``__getattr__``; {} if odd."""
    try:
        fields = _getattr_raw(instance, "__dict__")
    except AttributeError:
        return {}
    # A dict subclass could answer ``get`` with anything; only a plain dict is data.
    return fields if _type(fields) is _dict else {}


def _text(value) -> str | None:
    return value if _type(value) is _str else None


def _resource_bytes(resource) -> bytes | None:
    """The job's own PipelineJob protobuf as bytes, serialised by the captured C function."""
    if _type(resource) is not _RESOURCE:
        return None
    raw = _fields(resource).get("_pb")
    if _type(raw) is not _RAW_RESOURCE:
        return None
    data = _SERIALIZE(raw)
    return data if _type(data) is _bytes else None


def _clients(api_client) -> list[dict]:
    """The attributes of each versioned client the job would submit through; [] if odd."""
    if _type(api_client) is not _CLIENT:
        return []
    versions = _fields(api_client).get("_clients")
    if _type(versions) is not _dict:
        return []
    found = []
    for client in _dict.values(versions):
        if _type(client) is not _WRAPPED_CLIENT:
            return []
        found.append(_fields(client))
    return found


def _endpoint(client: dict) -> str | None:
    options = client.get("_client_options")
    if _type(options) is not _CLIENT_OPTIONS:
        return None
    return _text(_fields(options).get("api_endpoint"))
