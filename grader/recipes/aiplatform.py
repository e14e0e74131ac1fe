"""Recipes for Vertex AI (google-cloud-aiplatform) objects, run inside the worker.

A learner's ``vertex_job`` builds a real ``aiplatform.PipelineJob`` offline:
nothing is submitted and nothing reaches the network, but the library needs
credentials, so tests pass ``build("aiplatform.anonymous_credentials")``.
The job itself never crosses the trust boundary: ``job_resource`` (a ``then``
recipe) turns it into data, the job's resource as a dict plus the project,
location and credentials the library resolved for it.

``aiplatform.init`` changes process-wide state (project, location,
credentials, staging bucket, experiment). Building the credentials first
resets that state, so one call's ``init`` cannot leak into the next call in
the same worker: every graded call starts from a library that knows nothing.
"""
from __future__ import annotations

from typing import Any

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
    """A ``then`` recipe: a PipelineJob as data.

    ``{"is_pipeline_job", "type", "project", "location", "parent", "job_id",
    "credentials": {"type", "is_given"}, "resource"}`` where ``resource`` is
    the job's ``PipelineJob`` proto as a dict (camelCase keys, as
    ``json_format.MessageToDict`` writes them; numbers inside the pipeline
    spec and parameter values are floats, as in ``google.protobuf.Value``).
    """
    from google.cloud import aiplatform

    if not isinstance(job, aiplatform.PipelineJob):
        return {"is_pipeline_job": False, "type": type(job).__name__}
    credentials = getattr(job, "credentials", None)
    return {
        "is_pipeline_job": True,
        "type": type(job).__name__,
        "project": _text(getattr(job, "project", None)),
        "location": _text(getattr(job, "location", None)),
        "parent": _text(getattr(job, "_parent", None)),
        "job_id": _text(getattr(job, "job_id", None)),
        "credentials": {
            "type": type(credentials).__name__ if credentials is not None else None,
            "is_given": bool(_issued) and credentials is _issued[0],
        },
        "resource": job.to_dict(),
    }


def _text(value) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)
