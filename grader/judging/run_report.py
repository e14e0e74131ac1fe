"""A local KFP run's report, decoded once on the trusted side.

The pipeline runner (``grader.sandbox.recipes.kfp_local.run``) sends each run's
report as plain wire data (a dict of JSON values and bytes). ``RunReport.from_wire``
checks its shape and decodes it into the frozen dataclasses below; tests and
helpers read attributes, never ``.get`` chains on the raw dict::

    run = kfp_ir.run_pipeline(learner, pipeline_runner, "basic_pipeline")   # a RunReport
    assert run.ok and run.task("reverse"), run.failure("running basic_pipeline()", hidden=False)
    run.task("reverse").parameters["after"]
    run.output("concat")                                  # the task's return value, None if it has none
    [outputs.output for _, outputs in run.loop("train-candidate")]
    run.artifact_bytes("train-model", "model")

A report of the wrong shape raises ``RunReportError`` in the grader's own words
(which field is wrong, never its value). What crosses the wire stays plain
data: these classes exist only on the trusted side.
"""
from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from grader.judging.report_shape import MalformedReport, Shape, empty
from grader.record.kinds import NotAttempted, TimedOut

_LOOP_ITERATION = re.compile(r"for-loop-\d+-iteration-(\d+)")


class RunReportError(MalformedReport):
    """What came back from the pipeline runner is not a run report."""


_shape = Shape(RunReportError, "the pipeline runner sent a malformed run report")
_fail, _mapping, _text_or_none, _flag, _texts = _shape.fail, _shape.mapping, _shape.text_or_none, _shape.flag, _shape.texts
_none = empty


@dataclass(frozen=True)
class Artifact:
    """An output artifact a task wrote: its metadata, and its file's bytes (None: no file, or over budget)."""

    metadata: Mapping[str, Any] = field(default_factory=_none)
    content: bytes | None = None
    is_dir: bool = False

    @classmethod
    def from_wire(cls, data: Any, where: str) -> "Artifact":
        data = _mapping(data, where)
        content = data.get("content")
        if content is not None and not isinstance(content, bytes):
            raise _fail(f"{where}.content", "is not bytes")
        return cls(MappingProxyType(_mapping(data.get("metadata"), f"{where}.metadata")), content,
                   _flag(data.get("is_dir", False), f"{where}.is_dir"))


@dataclass(frozen=True)
class TaskOutputs:
    """What one finished task left: its output parameters (as the run wrote them) and its output artifacts."""

    parameters: Mapping[str, Any] = field(default_factory=_none)
    artifacts: Mapping[str, Artifact] = field(default_factory=_none)
    malformed: bool = False  # its executor output was not readable: no outputs kept

    @property
    def output(self) -> Any:
        """The single return value of a component (its ``Output`` parameter), None if it has none."""
        return self.parameters.get("Output")

    def metadata(self, artifact: str) -> Mapping[str, Any]:
        """The metadata the task logged on its output artifact ``artifact`` (empty if none)."""
        found = self.artifacts.get(artifact)
        return found.metadata if found is not None else empty()

    @classmethod
    def from_wire(cls, data: Any, where: str) -> "TaskOutputs":
        data = _mapping(data, where)
        artifacts = _mapping(data.get("artifacts"), f"{where}.artifacts")
        return cls(MappingProxyType(_mapping(data.get("parameters"), f"{where}.parameters")),
                   MappingProxyType({name: Artifact.from_wire(value, f"{where}'s artifact")
                                     for name, value in artifacts.items()}),
                   _flag(data.get("malformed", False), f"{where}.malformed"))


@dataclass(frozen=True)
class Diagnosis:
    """What a component's compiled source shows (``grader.sandbox.recipes.kfp_local.diagnose``)."""

    undefined: tuple[str, ...] = ()
    not_implemented: bool = False
    annotations: tuple[str, ...] = ()  # those of ``undefined`` read in the function's annotations


@dataclass(frozen=True)
class RunReport:
    """One local run of a compiled package, or why the learner's object did not compile (``stage``)."""

    ok: bool  # every task succeeded
    error: str | None = None  # what kfp (or the compiler) raised: "Type: message"; learner text, public only
    failed_tasks: tuple[str, ...] = ()  # kfp's names of the tasks that failed
    # Each failed task's own printed exception line (learner text): public feedback only.
    task_errors: Mapping[str, str] = field(default_factory=_none)
    diagnoses: Mapping[str, Diagnosis] = field(default_factory=_none)  # by component, every component of the package
    # By the task's path in the run: "reverse", "for-loop-2-iteration-0/train-candidate".
    tasks: Mapping[str, TaskOutputs] = field(default_factory=_none)
    timed_out: bool = False
    stage: str = "run"  # "compile": the learner's object did not compile, nothing ran
    name: str | None = None  # "compile" stage: the object's name (from the test)
    missing: bool = False  # "compile" stage: the module does not define it

    @classmethod
    def from_wire(cls, data: Any) -> "RunReport":
        """Check and decode one report the pipeline runner sent; ``RunReportError`` if it is not one."""
        if not isinstance(data, dict):
            raise _fail("the report", "is not a mapping")
        diagnoses = {}
        for component, found in _mapping(data.get("diagnoses"), "diagnoses").items():
            found = _mapping(found, "a diagnosis")
            diagnoses[component] = Diagnosis(_texts(found.get("undefined"), "a diagnosis's undefined names"),
                                             _flag(found.get("not_implemented", False),
                                                   "a diagnosis's not_implemented"),
                                             _texts(found.get("annotations"), "a diagnosis's annotation names"))
        task_errors = _mapping(data.get("task_errors"), "task_errors")
        if not all(isinstance(v, str) for v in task_errors.values()):
            raise _fail("task_errors", "holds something other than text")
        return cls(
            ok=_flag(data.get("ok"), "ok"),
            error=_text_or_none(data.get("error"), "error"),
            failed_tasks=_texts(data.get("failed_tasks"), "failed_tasks"),
            task_errors=MappingProxyType(dict(task_errors)),
            diagnoses=MappingProxyType(diagnoses),
            tasks=MappingProxyType({path: TaskOutputs.from_wire(outputs, "a task's outputs")
                                    for path, outputs in _mapping(data.get("tasks"), "tasks").items()}),
            timed_out=_flag(data.get("timed_out", False), "timed_out"),
        )

    @classmethod
    def not_compiled(cls, name: str, error: str, missing: bool = False) -> "RunReport":
        """The report of a job whose object the learner's worker could not compile (nothing ran)."""
        return cls(ok=False, error=error, stage="compile", name=name, missing=missing)

    # ------------------------------------------------------------------ outputs
    def task(self, name: str) -> TaskOutputs | None:
        """The outputs of the one task ``name`` outside loops (or at the exact path ``name``), or None."""
        if name in self.tasks:
            return self.tasks[name]
        found = [v for k, v in self.tasks.items() if k.rsplit("/", 1)[-1] == name and "iteration" not in k]
        return found[0] if len(found) == 1 else None

    def output(self, task: str) -> Any:
        """The return value (``Output`` parameter) of the one task ``task`` outside loops, None if none."""
        outputs = self.task(task)
        return outputs.output if outputs is not None else None

    def loop(self, name: str) -> list[tuple[int, TaskOutputs]]:
        """``(iteration index, outputs)`` of every loop iteration of task ``name``, in iteration order."""
        found = []
        for key, value in self.tasks.items():
            parts = key.split("/")
            if parts[-1] != name:
                continue
            iterations = [int(m.group(1)) for m in map(_LOOP_ITERATION.fullmatch, parts[:-1]) if m]
            if iterations:
                found.append((iterations[-1], value))
        return sorted(found, key=lambda item: item[0])

    def artifact_bytes(self, task: str, name: str) -> bytes | None:
        """The file of output artifact ``name`` of task ``task``, None if the task or the file is missing."""
        outputs = self.task(task)
        artifact = outputs.artifacts.get(name) if outputs is not None else None
        return artifact.content if artifact is not None else None

    # ------------------------------------------------------------------ why it failed
    def failure(self, what: str, *, hidden: bool = True) -> str:
        """Why the run produced no usable outputs, in the course's terms.

        Hidden feedback is made of this method's own sentences, the names of
        the objects and tasks (from the test and the compiled IR), what the
        compiled source shows (``diagnoses``) and built-in exception names:
        never a message or a printed line, which the learner's code chose.
        Public feedback adds the learner's own text.

        A run stopped at its time limit raises ``TimedOut`` (an AssertionError)
        instead of returning: tests call this in an assert's message, so the
        check then fails as a timeout, in the same words.
        """
        error = self.error or ""
        if self.stage == "compile":
            return self._compile_failure(what, error, hidden)
        if self.timed_out:
            raise TimedOut(f"{what}: the run took too long and its tasks were stopped "
                           "(an endless loop, or far more work than the specification asks for?).")
        # What every component's compiled source shows is known before the run; which task failed is
        # not (it can depend on the inputs), so hidden feedback names components only from the former.
        if self.failed_tasks or error:
            for component, found in sorted(self.diagnoses.items()):
                if found.not_implemented:
                    raise NotAttempted(f"{what}: the component {component} still raises NotImplementedError; "
                                       "fill in the TODO.")
            for component, found in sorted(self.diagnoses.items()):
                names = [n for n in found.annotations if n.isidentifier()]
                if names:
                    return f"{what}: the run failed; {annotation_advice(component, names)}"
            for component, found in sorted(self.diagnoses.items()):
                names = [n for n in found.undefined if n.isidentifier()]
                if names:
                    listed = ", ".join(f"`{n}`" for n in names[:5])
                    return (f"{what}: the run failed; the component {component} uses {listed} without importing or "
                            "defining it inside the function. A component runs alone, from its own source: every "
                            "import, helper and constant it uses must be inside the component's function body.")
        if self.failed_tasks:
            if hidden:
                return f"{what}: the run failed (a task did not succeed)."
            line = f"{what}: the run failed (task {', '.join(self.failed_tasks)})."
            if self.task_errors:
                line += f" It printed: {next(iter(self.task_errors.values()))}"
            return line
        if error:
            return f"{what}: running it raised {error_name(error) if hidden else error}."
        return f"{what}: the run left no outputs."

    def _compile_failure(self, what: str, error: str, hidden: bool) -> str:
        if self.missing:
            return f"{what}: your module does not define `{self.name}`."
        if "Unsupported pipeline_func type" in error:
            return f"{what}: {self.name} is not a pipeline yet: decorate it with @dsl.pipeline."
        line = f"{what}: kfp's compiler could not compile `{self.name}` ({error_name(error) if hidden else error})."
        if "keyword arguments" in error:
            line += " Components must be called with keyword arguments: concat(a=a, b=b)."
        return line


def annotation_advice(component: str, names: list[str]) -> str:
    """Why a name in a component's annotations is undefined when the step runs, and the fix.

    Annotations are evaluated where the function is defined: in the module kfp
    writes around the component's source, before its body runs, so moving an
    import into the body does not help. That module imports typing's names
    (``from typing import *``), not ``typing`` itself.
    """
    listed = ", ".join(f"`{n}`" for n in names[:5])
    return (f"the component {component}'s annotations use {listed}, which the step cannot see: annotations "
            "are evaluated where the function is defined, before its body runs, so an import inside the body "
            "does not help them. KFP's generated module imports typing's names by themselves (from typing "
            "import *): write `from typing import List` (or `NamedTuple`) at the top of your module and use "
            "the bare name in the annotation, `List[float]`, never `typing.List[float]`.")


def error_name(error: str) -> str:
    """The exception's type name when it is a built-in one; otherwise just "an error"."""
    name = error.split(":", 1)[0].strip()
    found = getattr(builtins, name, None)
    return name if isinstance(found, type) and issubclass(found, BaseException) else "an error"
