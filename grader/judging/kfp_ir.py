"""Inspect a compiled KFP pipeline package (the IR) on the trusted side, as data.

A package is YAML whose first document is a ``PipelineSpec``. It is parsed
with ``yaml`` (safe loader, no aliases: the KFP compiler never writes them,
and they are how "billion laughs" documents blow up) and then into kfp's own
protobuf, ``kfp.pipeline_spec.pipeline_spec_pb2.PipelineSpec``, through
``google.protobuf.json_format``. Nothing in the package is executed.

    pkg = kfp_ir.load(learner.read_bytes("pkg.yaml"))
    pkg.name                                   # "basic-pipeline"
    pkg.task("reverse").inputs["a"]            # InputSource(kind="task_output", task="concat", key="Output")
    pkg.interface("concat")                    # {"inputs": {"a": "STRING", ...}, "outputs": {"Output": "STRING"}}
    pkg.defaults()                             # {"a": "stres", "b": "sed"}
    pkg.resources("train-model")               # {"cpu_limit": "2", "memory_limit": "4G", ...}

Every malformed package raises ``PackageError`` (a ``ValueError``) with a
message meant for the learner. Lookups of tasks that are not there raise
``MissingTask`` (also a ``PackageError``) naming what was looked for.

Task names are the keys of the DAG (``concat``, ``train-model``,
``for-loop-2``...), which the compiler derives from the component's
function name; ``find`` looks a task up by its component's function name too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from grader import lean_imports
from grader.learner_text import shorten
from grader.judging.run_report import RunReport, RunReportError, TaskOutputs  # noqa: F401 - for tests
from grader.judging.run_report import error_name as _error_name

MAX_PACKAGE_BYTES = 2 * 1024 * 1024  # a compiled package of these exercises is ~20 KB


class PackageError(ValueError):
    """The bytes are not a compiled KFP pipeline package, or not the one expected."""


class MissingTask(PackageError):
    """No task of that name (or component) in the pipeline."""


# --------------------------------------------------------------------------- loading

class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            raise PackageError("the package uses YAML aliases (*name), which the KFP compiler never writes")
        return super().compose_node(parent, index)


def load(data: bytes | str) -> "Package":
    """Parse package bytes (or text) into a ``Package``; ``PackageError`` if it is not one."""
    from google.protobuf import json_format
    pipeline_spec_pb2 = _pipeline_spec_pb2()

    if isinstance(data, bytes):
        if len(data) > MAX_PACKAGE_BYTES:
            raise PackageError(f"the package is larger than {MAX_PACKAGE_BYTES} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PackageError("the package is not UTF-8 text (a compiled package is YAML)") from exc
    if not isinstance(data, str) or not data.strip():
        raise PackageError("the package is empty: did compile_pipeline write the file?")
    try:
        loader = _NoAliasLoader(data)
        try:
            document = loader.get_data() if loader.check_data() else None
        finally:
            loader.dispose()
    except PackageError:
        raise
    except RecursionError as exc:
        raise PackageError("the package is nested too deeply to be a pipeline package") from exc
    except yaml.YAMLError as exc:
        raise PackageError(f"the package is not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(document, dict):
        raise PackageError("the package's first YAML document is not a mapping: not a KFP pipeline package")
    if "pipelineInfo" not in document or "root" not in document:
        missing = [k for k in ("pipelineInfo", "root") if k not in document]
        hint = " (it looks like a single component, not a pipeline)" if "components" not in document and "executorLabel" in str(document)[:2000] else ""
        raise PackageError(f"the package has no {' or '.join(missing)}: not a compiled KFP pipeline{hint}")
    spec = pipeline_spec_pb2.PipelineSpec()
    try:
        json_format.ParseDict(document, spec, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, ValueError, RecursionError) as exc:
        raise PackageError(f"the package does not follow the KFP pipeline spec ({type(exc).__name__})") from exc
    return Package(spec, document)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shorten(text[0], 200) if text else type(exc).__name__


# --------------------------------------------------------------------------- data

@dataclass(frozen=True)
class InputSource:
    """Where an input's value comes from, resolved through enclosing groups.

    ``kind`` is one of ``"pipeline_input"`` (``name``), ``"task_output"``
    (``task``, ``key``; the producing task in the outermost DAG that can see
    it, after following loop/exit-handler DAG outputs down to the real task in
    ``via``), ``"constant"`` (``value``), ``"loop_item"`` (``of``: the InputSource
    of the iterated list), ``"unknown"``.
    """

    kind: str
    name: str | None = None
    task: str | None = None
    key: str | None = None
    value: Any = None
    of: "InputSource | None" = None
    via: tuple = ()
    final_key: str | None = None

    @property
    def producer(self) -> str | None:
        """The task that really computes the value (inside loops, the iterated task)."""
        return self.via[-1] if self.via else self.task


@dataclass
class Task:
    name: str                     # key in its DAG
    spec: Any                     # PipelineTaskSpec
    owner: str                    # component name of the DAG holding it ("root" for the pipeline)
    groups: tuple = ()            # enclosing group task names, outermost first
    component: str = ""           # component name it references
    inputs: dict = field(default_factory=dict)      # input name -> InputSource (parameters and artifacts)


# --------------------------------------------------------------------------- package

class Package:
    def __init__(self, spec, document: dict):
        self.spec = spec
        self.document = document
        self._components = dict(spec.components.items())
        self._tasks: dict[str, Task] = {}
        self._group_of_component: dict[str, tuple[str, str]] = {}  # dag component -> (group task, owner)
        self._index("root", spec.root, ())

    # ---------------------------------------------------------------- basic facts
    @property
    def name(self) -> str:
        return self.spec.pipeline_info.name

    @property
    def sdk_version(self) -> str:
        return self.spec.sdk_version

    def component_names(self) -> list[str]:
        return sorted(self._components)

    def component(self, name: str):
        """A ComponentSpec by component name (``comp-concat``) or task name."""
        if name in self._components:
            return self._components[name]
        if name == "root":
            return self.spec.root
        task = self.task(name)
        return self._components[task.component]

    # ---------------------------------------------------------------- tasks
    def tasks(self, include_groups: bool = False) -> list[Task]:
        found = list(self._tasks.values())
        if not include_groups:
            found = [t for t in found if not self.is_group(t.name)]
        return found

    def task_names(self, include_groups: bool = False) -> list[str]:
        return sorted(t.name for t in self.tasks(include_groups))

    def task(self, name: str) -> Task:
        try:
            return self._tasks[name]
        except KeyError:
            raise MissingTask(f"the pipeline has no task named {name!r} "
                              f"(tasks: {', '.join(self.task_names()) or 'none'})") from None

    def find(self, function_name: str) -> list[Task]:
        """Tasks running the component made from the Python function ``function_name``."""
        comp = "comp-" + sanitize(function_name)
        pattern = re.compile(re.escape(comp) + r"(-\d+)?$")
        return [t for t in self.tasks() if pattern.match(t.component)]

    def find_one(self, function_name: str) -> Task:
        found = self.find(function_name)
        if not found:
            raise MissingTask(f"the pipeline never calls the component {function_name}")
        if len(found) > 1:
            raise PackageError(f"the pipeline calls {function_name} {len(found)} times; the exercise calls it once")
        return found[0]

    def is_group(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and self._components.get(task.component) is not None and \
            self._components[task.component].WhichOneof("implementation") == "dag"

    def group_kind(self, name: str) -> str | None:
        """``"condition"``, ``"loop"``, ``"exit_handler"``, ``"dag"`` (other nested pipeline) or None."""
        if not self.is_group(name):
            return None
        spec = self._tasks[name].spec
        if spec.WhichOneof("iterator"):
            return "loop"
        if spec.trigger_policy.condition:
            return "condition"
        if name.startswith("exit-handler"):
            return "exit_handler"
        if name.startswith("condition"):
            return "condition"
        return "dag"

    def enclosing(self, name: str) -> list[tuple[str, str]]:
        """The groups around a task, outermost first, as ``(group task name, kind)``."""
        return [(g, self.group_kind(g)) for g in self.task(name).groups]

    def dependencies(self, name: str) -> list[str]:
        return list(self.task(name).spec.dependent_tasks)

    # ---------------------------------------------------------------- interfaces
    def interface(self, name: str) -> dict:
        """``{"inputs": {name: type}, "outputs": {name: type}}`` of a component or task.

        Parameter types are the IR's names (``STRING``, ``NUMBER_INTEGER``,
        ``NUMBER_DOUBLE``, ``BOOLEAN``, ``LIST``, ``STRUCT``); artifact types
        are schema titles (``system.Dataset``).
        """
        pipeline_spec_pb2 = _pipeline_spec_pb2()

        comp = self.component(name)
        ptype = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name

        def side(defs) -> dict:
            found = {k: ptype(v.parameter_type) for k, v in defs.parameters.items()}
            found.update({k: v.artifact_type.schema_title for k, v in defs.artifacts.items()})
            return found

        return {"inputs": side(comp.input_definitions), "outputs": side(comp.output_definitions)}

    def parameters(self) -> dict:
        """The pipeline's input parameters: ``{name: {"type": T, "default": V, "optional": bool}}``."""
        from google.protobuf import json_format
        pipeline_spec_pb2 = _pipeline_spec_pb2()

        found = {}
        for key, spec in self.spec.root.input_definitions.parameters.items():
            entry = {"type": pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(spec.parameter_type),
                     "optional": spec.is_optional}
            if spec.HasField("default_value"):
                entry["default"] = json_format.MessageToDict(spec.default_value)
            found[key] = entry
        return found

    def defaults(self) -> dict:
        """``{name: default}`` for pipeline parameters that have one (integers arrive as floats)."""
        return {k: v["default"] for k, v in self.parameters().items() if "default" in v}

    # ---------------------------------------------------------------- task settings
    def executor(self, name: str):
        """The PipelineContainerSpec running a task (or component), or None."""
        from google.protobuf import json_format
        pipeline_spec_pb2 = _pipeline_spec_pb2()

        comp = self.component(name)
        label = comp.executor_label
        executors = self.spec.deployment_spec.fields.get("executors")
        if not label or executors is None or label not in executors.struct_value.fields:
            return None
        executor = pipeline_spec_pb2.PipelineDeploymentConfig.ExecutorSpec()
        try:
            json_format.ParseDict(json_format.MessageToDict(executors.struct_value.fields[label]), executor,
                                  ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise PackageError(f"the executor {label} does not follow the KFP spec ({type(exc).__name__})") from exc
        return executor.container if executor.WhichOneof("spec") == "container" else None

    def resources(self, name: str) -> dict:
        """Resource settings of a task as the compiler wrote them.

        ``cpu_limit``/``memory_limit``/``cpu_request``/``memory_request`` are the
        strings given in the pipeline (``"2"``, ``"4G"``) or None;
        ``*_bytes``/``*_cores`` are those quantities parsed (None if absent or
        unparseable). ``accelerator`` is ``(type, count)`` or None.
        """
        container = self.executor(name)
        res = container.resources if container is not None else None
        get = (lambda attr: getattr(res, attr) or None) if res is not None else (lambda attr: None)
        found = {
            "cpu_limit": get("resource_cpu_limit"),
            "memory_limit": get("resource_memory_limit"),
            "cpu_request": get("resource_cpu_request"),
            "memory_request": get("resource_memory_request"),
            "accelerator": None,
        }
        if res is not None and res.accelerator.resource_type:
            found["accelerator"] = (res.accelerator.resource_type, res.accelerator.resource_count)
        found["cpu_limit_cores"] = cpu_cores(found["cpu_limit"])
        found["cpu_request_cores"] = cpu_cores(found["cpu_request"])
        found["memory_limit_bytes"] = memory_bytes(found["memory_limit"])
        found["memory_request_bytes"] = memory_bytes(found["memory_request"])
        return found

    def retries(self, name: str) -> int:
        """``maxRetryCount`` of a task's retry policy (0 when there is none)."""
        spec = self.task(name).spec
        return spec.retry_policy.max_retry_count if spec.HasField("retry_policy") else 0

    def caching(self, name: str) -> bool:
        """Whether the task may reuse cached results (``cachingOptions.enableCache``)."""
        return bool(self.task(name).spec.caching_options.enable_cache)

    def condition(self, name: str) -> str:
        """The trigger condition written on a (condition group) task, ``""`` if none."""
        return self.task(name).spec.trigger_policy.condition

    def trigger_strategy(self, name: str) -> str:
        """``"ALL_UPSTREAM_TASKS_SUCCEEDED"`` (the default) or ``"ALL_UPSTREAM_TASKS_COMPLETED"`` (exit tasks)."""
        pipeline_spec_pb2 = _pipeline_spec_pb2()

        strategy = self.task(name).spec.trigger_policy.strategy
        names = pipeline_spec_pb2.PipelineTaskSpec.TriggerPolicy.TriggerStrategy
        value = names.Name(strategy)
        return "ALL_UPSTREAM_TASKS_SUCCEEDED" if value == "TRIGGER_STRATEGY_UNSPECIFIED" else value

    def parallelism(self, name: str) -> int:
        """``iteratorPolicy.parallelismLimit`` of a loop group (0 means unlimited)."""
        return self.task(name).spec.iterator_policy.parallelism_limit

    def loop_items(self, name: str) -> InputSource:
        """What a loop group iterates over."""
        task = self.task(name)
        spec = task.spec
        kind = spec.WhichOneof("iterator")
        if kind == "parameter_iterator":
            items = spec.parameter_iterator.items
            if items.WhichOneof("kind") == "input_parameter":
                # the iterated list is one of the loop task's own inputs
                if items.input_parameter in spec.inputs.parameters:
                    return self._resolve_input(task, spec.inputs.parameters[items.input_parameter])
                return self._resolve_param(task.owner, task.groups, items.input_parameter, spec)
            if items.WhichOneof("kind") == "raw":
                import json
                try:
                    return InputSource("constant", value=json.loads(items.raw))
                except ValueError:
                    return InputSource("constant", value=items.raw)
        if kind == "artifact_iterator":
            return InputSource("unknown", name="artifact list")
        raise PackageError(f"{name!r} is not a loop")

    # ---------------------------------------------------------------- conditions
    def condition_terms(self, group: str) -> list[tuple[InputSource, str, InputSource]]:
        """The comparisons of a condition group, operands resolved.

        Only the simple forms the KFP compiler writes for ``dsl.If(a OP b)``
        (``inputs.parameter_values['x'] >= 1.0``, possibly joined with ``&&``)
        are understood; anything else comes back as ``InputSource("unknown")``.
        """
        task = self.task(group)
        text = task.spec.trigger_policy.condition
        terms = []
        for part in re.split(r"\s*&&\s*", text.strip()) if text.strip() else []:
            part = part.strip()
            while part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
                part = part[1:-1].strip()
            match = re.fullmatch(r"(.+?)\s*(==|!=|>=|<=|>|<)\s*(.+)", part)
            if not match:
                terms.append((InputSource("unknown", value=part), "?", InputSource("unknown")))
                continue
            left, op, right = match.groups()
            terms.append((self._operand(task, left), op, self._operand(task, right)))
        return terms

    def _operand(self, task: Task, text: str) -> InputSource:
        import json

        text = text.strip()
        cast = re.fullmatch(r"(?:int|double|string|bool)\((.*)\)", text)
        if cast:
            text = cast.group(1).strip()
        match = re.fullmatch(r"inputs\.parameter_values\[['\"]([^'\"]+)['\"]\]", text)
        if match:
            channel = match.group(1)
            if channel in task.spec.inputs.parameters:
                return self._resolve_input(task, task.spec.inputs.parameters[channel])
            return self._resolve_param(task.owner, task.groups, channel, task.spec)
        try:
            return InputSource("constant", value=json.loads(text))
        except ValueError:
            if len(text) >= 2 and text[0] == text[-1] == "'":
                return InputSource("constant", value=text[1:-1])
            return InputSource("unknown", value=text)

    # ---------------------------------------------------------------- edges
    def edges(self) -> list[tuple[str, str, str, str]]:
        """Data edges between real tasks: ``(producer, output key, consumer, input name)``."""
        found = []
        for task in self.tasks():
            for input_name, source in task.inputs.items():
                if source.kind == "task_output" and source.producer:
                    found.append((source.producer, source.final_key or source.key, task.name, input_name))
        return sorted(found)

    # ---------------------------------------------------------------- indexing
    def _index(self, owner: str, comp, groups: tuple) -> None:
        if comp.WhichOneof("implementation") != "dag":
            return
        here = []
        for name, spec in comp.dag.tasks.items():
            key = name if name not in self._tasks else f"{owner}/{name}"  # keys are unique per DAG only
            task = Task(name=key, spec=spec, owner=owner, groups=groups, component=spec.component_ref.name)
            self._tasks[key] = task
            here.append(task)
            child = self._components.get(spec.component_ref.name)
            if child is not None and child.WhichOneof("implementation") == "dag" \
                    and spec.component_ref.name not in self._group_of_component:
                self._group_of_component[spec.component_ref.name] = (key, owner)
                self._index(spec.component_ref.name, child, groups + (key,))
        for task in here:
            for key, value in task.spec.inputs.parameters.items():
                task.inputs[key] = self._resolve_input(task, value)
            for key, value in task.spec.inputs.artifacts.items():
                task.inputs[key] = self._resolve_artifact(task, value)

    def _resolve_input(self, task: Task, value, depth: int = 0) -> InputSource:
        """Resolve a TaskInputsSpec.InputParameterSpec seen from ``task``'s DAG."""
        kind = value.WhichOneof("kind")
        if kind == "component_input_parameter":
            return self._resolve_param(task.owner, task.groups, value.component_input_parameter, task.spec, depth)
        if kind == "task_output_parameter":
            out = value.task_output_parameter
            return self._task_output(task.owner, out.producer_task, out.output_parameter_key, "parameters", depth)
        if kind == "runtime_value":
            from google.protobuf import json_format
            return InputSource("constant", value=json_format.MessageToDict(value.runtime_value.constant))
        if kind == "task_final_status":
            return InputSource("unknown", name="task_final_status", task=value.task_final_status.producer_task)
        return InputSource("unknown")

    def _resolve_artifact(self, task: Task, value, depth: int = 0) -> InputSource:
        kind = value.WhichOneof("kind")
        if kind == "component_input_artifact":
            return self._resolve_param(task.owner, task.groups, value.component_input_artifact, task.spec, depth,
                                       artifact=True)
        if kind == "task_output_artifact":
            out = value.task_output_artifact
            return self._task_output(task.owner, out.producer_task, out.output_artifact_key, "artifacts", depth)
        return InputSource("unknown")

    def _resolve_param(self, owner: str, groups: tuple, name: str, spec, depth: int = 0,
                       artifact: bool = False) -> InputSource:
        """``name`` is an input of the DAG component ``owner``: follow it outwards."""
        if depth > 50:
            return InputSource("unknown")
        if owner == "root":
            return InputSource("pipeline_input", name=name)
        group_name, parent_owner = self._group_of_component.get(owner, (None, None))
        if group_name is None:
            return InputSource("unknown", name=name)
        group = self._tasks[group_name]
        iterator = group.spec.WhichOneof("iterator")
        if iterator == "parameter_iterator" and group.spec.parameter_iterator.item_input == name:
            return InputSource("loop_item", name=name, of=self.loop_items(group_name))
        if iterator == "artifact_iterator" and group.spec.artifact_iterator.item_input == name:
            return InputSource("loop_item", name=name, of=InputSource("unknown"))
        holder = group.spec.inputs.artifacts if artifact else group.spec.inputs.parameters
        if name in holder:
            if artifact:
                return self._resolve_artifact(group, holder[name], depth + 1)
            return self._resolve_input(group, holder[name], depth + 1)
        return InputSource("unknown", name=name)

    def _task_output(self, owner: str, producer: str, key: str, side: str, depth: int) -> InputSource:
        """Output ``key`` of task ``producer`` in DAG ``owner``, followed into group DAG outputs.

        For a loop, ``via`` lists the subtasks followed and ``final_key`` the
        output key on the real producer (``train-candidate``'s ``Output``).
        """
        parent = self.spec.root if owner == "root" else self._components.get(owner)
        spec = parent.dag.tasks.get(producer) if parent is not None else None
        via: list[str] = []
        current = key
        while spec is not None and len(via) < 50:
            comp = self._components.get(spec.component_ref.name)
            if comp is None or comp.WhichOneof("implementation") != "dag":
                break
            if side == "parameters":
                out = comp.dag.outputs.parameters.get(current)
                if out is None or out.WhichOneof("kind") != "value_from_parameter":
                    via.append("?")
                    break
                sub, current = out.value_from_parameter.producer_subtask, out.value_from_parameter.output_parameter_key
            else:
                out = comp.dag.outputs.artifacts.get(current)
                if out is None or not out.artifact_selectors:
                    via.append("?")
                    break
                sub, current = out.artifact_selectors[0].producer_subtask, out.artifact_selectors[0].output_artifact_key
            via.append(sub)
            spec = comp.dag.tasks.get(sub)
        return InputSource("task_output", task=producer, key=key, via=tuple(via), final_key=current)


# --------------------------------------------------------------------------- helpers

# What of kfp reading IR here imports (a batch's pytest parent imports them once: grader/grading/warm_pytest.py).
KFP_MODULES = ("kfp.dsl.utils", "kfp.pipeline_spec.pipeline_spec_pb2")


def sanitize(name: str) -> str:
    """The compiler's name sanitising (``basic_pipeline`` and ``Basic Pipeline`` -> ``basic-pipeline``)."""
    utils = lean_imports.import_module(KFP_MODULES[0])

    return utils.maybe_rename_for_k8s(name)


_MEMORY_UNITS = {
    "": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def memory_bytes(quantity: str | None) -> float | None:
    """A Kubernetes memory quantity in bytes (``"4G"`` -> 4e9, ``"4"`` -> 4); None if unparseable."""
    if not quantity:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGTPE]i?|m)?\s*", str(quantity))
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit == "m":
        return number / 1000
    return number * _MEMORY_UNITS[unit]


def cpu_cores(quantity: str | None) -> float | None:
    """A Kubernetes CPU quantity in cores (``"2"`` -> 2.0, ``"500m"`` -> 0.5); None if unparseable."""
    if not quantity:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(m?)\s*", str(quantity))
    if not match:
        return None
    return float(match.group(1)) / (1000 if match.group(2) else 1)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


# --------------------------------------------------------------------------- local runs
# The learner's worker compiles (``grader.sandbox.recipes.kfp.compile_objects``); the
# pipeline runner, which never imports the learner's module, runs the packages
# (``grader.sandbox.recipes.kfp_local.run``). These start runs and read their reports.

def run_jobs(learner, runner, jobs: list[dict], timeout: float) -> list[RunReport]:
    """Compile what each job names in the learner's worker, then run the packages in ``runner``.

    A job: ``{"pipeline" or "component": name, "arguments": {...}, "timeout": s,
    "artifacts": {input: {"content": bytes, "type": "Dataset"}}}``. One
    ``RunReport`` per job (``grader.judging.run_report``), decoded from what the
    runner sent (``grader.sandbox.recipes.kfp_local.run``); a job whose object
    does not compile gets a report that says so (``stage == "compile"``).
    """
    names = list(dict.fromkeys(job.get("pipeline") or job.get("component") for job in jobs))
    compiled = learner.recipe("kfp.compile_objects", names, timeout=timeout)
    compiled = compiled if isinstance(compiled, dict) else {}
    reports: list[RunReport | None] = [None] * len(jobs)
    runnable = []
    for index, job in enumerate(jobs):
        name = job.get("pipeline") or job.get("component")
        entry = compiled.get(name) if isinstance(compiled.get(name), dict) else {}
        if entry.get("ok") and isinstance(entry.get("package"), bytes):
            runnable.append((index, {"package": entry["package"], "arguments": job.get("arguments") or {},
                                     "timeout": job.get("timeout"), "artifacts": job.get("artifacts") or {}}))
        else:
            reports[index] = RunReport.not_compiled(name, str(entry.get("error") or "nothing came back"),
                                                    missing=entry.get("missing") is True)
    if runnable:
        ran = runner.recipe("kfp_local.run", [job for _, job in runnable], timeout=timeout)
        if not isinstance(ran, list) or len(ran) != len(runnable):
            raise RunReportError(f"the pipeline runner sent no list of {len(runnable)} run reports")
        for (index, _), report in zip(runnable, ran):
            reports[index] = RunReport.from_wire(report)
    return reports


def run_pipeline(learner, runner, pipeline: str, arguments: dict | None = None, timeout: float = 60) -> RunReport:
    """For public tests: one local run of the learner's pipeline ``pipeline``."""
    job = {"pipeline": pipeline, "arguments": arguments or {}, "timeout": timeout}
    return run_jobs(learner, runner, [job], timeout + 60)[0]


# --------------------------------------------------------------------------- the learner's package

@dataclass(frozen=True)
class LearnerPackage:
    """The learner's compiled package for IR tests, and what went wrong on the way (grader's words)."""

    package: "Package | None"
    compile_problem: str | None = None  # the learner's compile_pipeline is broken
    package_problem: str | None = None  # the pipeline object itself does not compile


def compile_learner_package(learner, pipeline: str, filename: str) -> LearnerPackage:
    """Compile the learner's package in the sandbox, for IR tests (``LearnerPackage``).

    The learner's ``compile_pipeline`` writes ``filename``; when it is broken,
    kfp's own compiler is run on the pipeline object instead, so a broken
    ``compile_pipeline`` costs only its own test.
    """
    from grader.errors import LearnerError

    found = {"package": None, "compile_problem": None, "package_problem": None}
    must_return = "compile_pipeline must return the package_path it was given (a str)"
    target = learner.path(filename)
    try:
        if learner.compile_pipeline(target) != target:
            found["compile_problem"] = must_return
    except LearnerError as exc:
        found["compile_problem"] = must_return if exc.type_name == "WireError" else \
            f"compile_pipeline failed ({exc.type_name})"
    try:
        found["package"] = load(learner.read_bytes(filename))
    except LearnerError:
        found["compile_problem"] = found["compile_problem"] or \
            "compile_pipeline did not write a file at the package_path it was given"
    except PackageError as exc:
        found["compile_problem"] = found["compile_problem"] or \
            f"compile_pipeline did not write a pipeline package: {exc}"
    if found["package"] is None:
        fallback = filename.replace(".yaml", "-kfp.yaml")
        result = learner.recipe("kfp.compile_package", pipeline, fallback)
        if result.get("ok"):
            try:
                found["package"] = load(learner.read_bytes(fallback))
            except PackageError as exc:
                found["package_problem"] = f"{pipeline} does not compile to a package: {exc}"
        elif "Unsupported pipeline_func type" in (result.get("error") or ""):
            found["package_problem"] = f"{pipeline} is not a pipeline yet: decorate it with @dsl.pipeline"
        else:
            found["package_problem"] = f"{pipeline} could not be compiled ({_error_name(result.get('error') or '')})"
    return LearnerPackage(found["package"], found["compile_problem"], found["package_problem"])


def learner_package(learner, filename: str) -> "Package":
    """For public tests: the package the learner's ``compile_pipeline`` writes, or a failed assertion saying why."""
    from grader.errors import LearnerError

    try:
        learner.compile_pipeline(learner.path(filename))
    except LearnerError as exc:
        raise AssertionError(f"compile_pipeline raised {exc.raw_type_name}: {exc.message}") from None
    try:
        return load(learner.read_bytes(filename))
    except LearnerError:
        raise AssertionError("compile_pipeline wrote no file at the package_path it was given") from None
    except PackageError as exc:
        raise AssertionError(f"the file compile_pipeline wrote is not a pipeline package: {exc}") from None


def _pipeline_spec_pb2():
    """kfp's IR protobufs, without importing kfp's API client (``grader.lean_imports``)."""
    return lean_imports.import_module(KFP_MODULES[1])
