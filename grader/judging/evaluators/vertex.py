"""Judging a learner's Vertex AI PipelineJob from the facts its worker read.

Runs in the evaluator, a process that never imported learner code: the
learner's worker (``grader/sandbox/recipes/aiplatform.py``, ``job_resource``) sends
the job's resource as protobuf bytes plus a few strings and booleans, and
this recipe parses the bytes with the library's own message class and
decides what the facts add up to. Nothing here trusts a method of the job:
there is no job here, only data.
"""
from __future__ import annotations

import re

_PARENT = re.compile(r"projects/([a-z][-a-z0-9]{0,62})/locations/([a-z][-a-z0-9]{0,62})")
_ENDPOINT = "{location}-aiplatform.googleapis.com"
MAX_RESOURCE = 32 * 1024 * 1024


def pipeline_job(ctx, facts) -> dict:
    """``{"is_pipeline_job", "resource", "project", "location", "credentials": {"is_given"}}``.

    ``resource`` is the job's ``PipelineJob`` proto as a dict (camelCase keys,
    as ``json_format.MessageToDict`` writes them; numbers inside the pipeline
    spec and parameter values are floats, as in ``google.protobuf.Value``),
    ``None`` if the job held no readable resource. ``project`` and ``location``
    are those of the parent the job would be created in, and only when the
    job's own project, location and every API endpoint agree with it: a job
    whose parts disagree is in no project at all. ``is_given`` holds when the
    job and every client it would submit through carry the issued credentials.
    """
    if not isinstance(facts, dict) or facts.get("is_pipeline_job") is not True:
        return {"is_pipeline_job": False}
    project, location = _placement(facts)
    return {
        "is_pipeline_job": True,
        "resource": _resource(facts.get("resource")),
        "project": project,
        "location": location,
        "credentials": {"is_given": _credentials_given(facts.get("credentials"))},
    }


def _resource(data) -> dict | None:
    from google.cloud.aiplatform_v1.types.pipeline_job import PipelineJob
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    if not isinstance(data, bytes) or len(data) > MAX_RESOURCE:
        return None
    message = PipelineJob.pb()()
    try:
        message.ParseFromString(data)
    except DecodeError:
        return None
    return json_format.MessageToDict(message)


def _placement(facts: dict) -> tuple[str | None, str | None]:
    parent = facts.get("parent")
    match = _PARENT.fullmatch(parent) if isinstance(parent, str) else None
    if match is None:
        return None, None
    project, location = match.groups()
    endpoints = facts.get("endpoints")
    agree = (facts.get("project") == project and facts.get("location") == location
             and isinstance(endpoints, list) and endpoints
             and all(e == _ENDPOINT.format(location=location) for e in endpoints))
    return (project, location) if agree else (None, None)


def _credentials_given(credentials) -> bool:
    if not isinstance(credentials, dict):
        return False
    clients = credentials.get("clients")
    return (credentials.get("job") is True and isinstance(clients, list) and bool(clients)
            and all(given is True for given in clients))
