"""A compiled KFP pipeline as a bag of name-free features: its DAG of components and edges.

Task, component, parameter and display names are left out (a copy renames them first; the
exercise fixes most of them anyway). What stays is what the learner built: each task's interface
(input and output types), where it sits (loops, conditions, exit handlers), its settings
(caching, retries, resources, trigger), the data edges between tasks by the types they carry,
the pipeline's parameter types and defaults, and each component's code up to identifiers, strings,
comments and layout (tokenised as the code signal is, from the source the compiler embeds).
"""
from __future__ import annotations

import hashlib
import re

from grader.course.model import Exercise
from grader.instructor_tools.similarity.features import Bag
from grader.judging import kfp_ir

# Weights: a component's code says most about who wrote it, the DAG's shape less, defaults least.
CODE_WEIGHT = 5.0
TASK_WEIGHT = 3.0
EDGE_WEIGHT = 2.0
PARAMETER_WEIGHT = 1.0
_CHANNEL = re.compile(r"\[\s*(['\"])[^'\"]*\1\s*\]")  # inputs.parameter_values['pipelinechannel--...']


def pipeline_function(exercise: Exercise) -> str | None:
    """The exercise's pipeline object to compile (``basic_pipeline``...), or None when it defines none."""
    if not any(p.split(".")[0] == "kfp" for p in exercise.preload):
        return None
    found = [f for f in exercise.functions if f.endswith("_pipeline") and f != "compile_pipeline"]
    return found[0] if len(found) == 1 else None


def features(package: kfp_ir.Package) -> Bag:
    """The package's name-free features (``kfp_ir.load`` made ``package`` from bytes, as data)."""
    bag = Bag()
    signatures = {task.name: _signature(package, task.name) for task in package.tasks()}
    for task in package.tasks(include_groups=True):
        name = task.name
        where = "/".join(kind or "?" for _, kind in package.enclosing(name)) or "pipeline"
        if package.is_group(name):
            kind = package.group_kind(name)
            detail = {"loop": lambda: f"parallelism {package.parallelism(name)}",
                      "condition": lambda: _CHANNEL.sub("[…]", package.condition(name)[:400])[:200],
                      "exit_handler": lambda: ""}.get(kind, lambda: "")()
            bag.add(f"group|{kind}|{where}|{detail}", TASK_WEIGHT, f"a {kind} group in {where} {detail}".strip())
            continue
        settings = _settings(package, name)
        bag.add(f"task|{signatures[name]}|{where}|{settings}", TASK_WEIGHT,
                f"a task {signatures[name]} in {where} ({settings})")
        code = _component_code(package, name)
        if code:
            bag.add(f"code|{code}", CODE_WEIGHT,
                    f"a component of type {signatures[name]} with the same code, up to names and layout")
    for producer, key, consumer, input_name in package.edges():
        carried = package.interface(producer)["outputs"].get(key, "?")
        bag.add(f"edge|{signatures.get(producer)}|{carried}|{signatures.get(consumer)}", EDGE_WEIGHT,
                f"an edge carrying {carried} from {signatures.get(producer)} to {signatures.get(consumer)}")
    for parameter in package.parameters().values():
        default = repr(parameter.get("default", "(none)"))[:80]
        bag.add(f"param|{parameter['type']}|{default}", PARAMETER_WEIGHT,
                f"a pipeline parameter of type {parameter['type']}, default {default}")
    return bag


def _signature(package: kfp_ir.Package, task: str) -> str:
    interface = package.interface(task)
    inputs = ",".join(sorted(interface["inputs"].values()))
    outputs = ",".join(sorted(interface["outputs"].values()))
    return f"({inputs})->({outputs})"


def _settings(package: kfp_ir.Package, task: str) -> str:
    resources = package.resources(task)
    return (f"cache {'on' if package.caching(task) else 'off'}, retries {package.retries(task)}, "
            f"cpu {resources['cpu_limit'] or '-'}, memory {resources['memory_limit'] or '-'}, "
            f"trigger {package.trigger_strategy(task).lower()}")


def _component_code(package: kfp_ir.Package, task: str) -> str | None:
    """A digest of the component's embedded source, tokenised as copydetect does (names, strings, layout gone)."""
    from copydetect.utils import filter_code

    container = package.executor(task)
    if container is None:
        return None
    sources = [part for part in list(container.command) + list(container.args) if "def " in part]
    if not sources:
        return None
    filtered, _ = filter_code(max(sources, key=len)[:200_000], "component.py", language="python")
    return hashlib.sha256(filtered.encode("utf-8")).hexdigest()
