"""A learner's Vertex AI PipelineJob as the evaluator judged it, decoded once on the trusted side.

The evaluator's ``vertex.pipeline_job`` recipe (``grader.judging.evaluators.vertex``)
sends plain wire data; ``PipelineJobReport.from_wire`` checks its shape and
decodes the parts tests read, so they use attributes instead of ``.get`` chains::

    job = PipelineJobReport.from_wire(evaluator.recipe("vertex.pipeline_job", facts))
    job.display_name, job.pipeline_root, job.parameter_values, job.labels
    job.project, job.location, job.credentials_given
    job.cached_tasks()          # tasks with caching on, sub-DAGs included

A report of the wrong shape raises ``JobReportError`` in the grader's own words
(which field is wrong, never its value).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from grader.judging.report_shape import MalformedReport, Shape, empty


class JobReportError(MalformedReport):
    """What came back from the evaluator is not a judged PipelineJob."""


_shape = Shape(JobReportError, "the evaluator sent a malformed job report")
_fail, _mapping, _text_or_none = _shape.fail, _shape.mapping, _shape.text_or_none
_none = empty


@dataclass(frozen=True)
class PipelineJobReport:
    is_pipeline_job: bool  # the learner returned an aiplatform.PipelineJob itself
    resource: dict | None = None  # the job's PipelineJob proto as a dict (camelCase keys); None if unreadable
    project: str | None = None  # where the job would be created, when all its parts agree (else None)
    location: str | None = None
    credentials_given: bool = False  # the job and every client carry the issued credentials
    display_name: str | None = None
    pipeline_root: str | None = None  # runtimeConfig.gcsOutputDirectory
    parameter_values: Mapping[str, Any] = field(default_factory=_none)  # runtimeConfig.parameterValues
    labels: Mapping[str, str] = field(default_factory=_none)
    pipeline_spec: dict = field(default_factory=dict)  # the compiled spec the job carries

    @classmethod
    def from_wire(cls, data: Any) -> "PipelineJobReport":
        """Check and decode what ``vertex.pipeline_job`` sent; ``JobReportError`` if it is not that."""
        data = _mapping(data, "the report")
        if data.get("is_pipeline_job") is not True:
            if data.get("is_pipeline_job") is not False:
                raise _fail("is_pipeline_job", "is not true or false")
            return cls(False)
        credentials = _mapping(data.get("credentials"), "credentials")
        if not isinstance(credentials.get("is_given"), bool):
            raise _fail("credentials.is_given", "is not true or false")
        resource = data.get("resource")
        if resource is None:
            return cls(True, None, _text_or_none(data.get("project"), "project"),
                       _text_or_none(data.get("location"), "location"), credentials["is_given"])
        resource = _mapping(resource, "resource")
        runtime = _mapping(resource.get("runtimeConfig"), "resource.runtimeConfig")
        labels = _mapping(resource.get("labels"), "resource.labels")
        if not all(isinstance(v, str) for v in labels.values()):
            raise _fail("resource.labels", "holds something other than text")
        return cls(
            is_pipeline_job=True,
            resource=resource,
            project=_text_or_none(data.get("project"), "project"),
            location=_text_or_none(data.get("location"), "location"),
            credentials_given=credentials["is_given"],
            display_name=_text_or_none(resource.get("displayName"), "resource.displayName"),
            pipeline_root=_text_or_none(runtime.get("gcsOutputDirectory"),
                                        "resource.runtimeConfig.gcsOutputDirectory"),
            parameter_values=MappingProxyType(dict(_mapping(runtime.get("parameterValues"),
                                                            "resource.runtimeConfig.parameterValues"))),
            labels=MappingProxyType(dict(labels)),
            pipeline_spec=_mapping(resource.get("pipelineSpec"), "resource.pipelineSpec"),
        )

    def tasks(self) -> Iterator[tuple[str, dict]]:
        """Every task of the job's pipeline spec: the root DAG's and those of every sub-DAG."""
        return dag_tasks(self.pipeline_spec)

    def cached_tasks(self) -> list[str]:
        """The names of the tasks that still have caching on (``cachingOptions.enableCache``)."""
        return sorted(name for name, task in self.tasks()
                      if isinstance(task.get("cachingOptions"), dict) and task["cachingOptions"].get("enableCache"))


def dag_tasks(spec: dict) -> Iterator[tuple[str, dict]]:
    """Every task of a pipeline spec (as a dict: a job's, or a package's YAML), sub-DAGs included."""
    components = spec.get("components") if isinstance(spec.get("components"), dict) else {}
    for component in [spec.get("root")] + list(components.values()):
        dag = component.get("dag") if isinstance(component, dict) else None
        tasks = dag.get("tasks") if isinstance(dag, dict) else None
        for name, task in (tasks.items() if isinstance(tasks, dict) else ()):
            if isinstance(task, dict):
                yield name, task
