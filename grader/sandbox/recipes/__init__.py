"""Recipes: trusted project code that runs inside a worker.

A recipe builds a rich object from a description (a Keras model from a
fixture name), turns a learner's result into data (a PipelineJob into its
resource dict), or drives the learner's module (a local pipeline run). Tests
name recipes as ``"<topic>.<function>"``; only functions of modules in this
package and in ``grader.judging.evaluators`` can be named.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

# Recipes next to learner code first; evaluator recipes exist only where no learner code runs.
PACKAGES = ("grader.sandbox.recipes", "grader.judging.evaluators")
_NAME = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")


@dataclass
class Context:
    module: ModuleType | None  # the learner's module; None in an evaluator
    scratch: Path
    pid_namespace: bool = True  # whether this worker has a PID namespace of its own (bubblewrap)


def resolve(name: str) -> Callable[..., Any]:
    match = _NAME.match(name or "")
    if not match:
        raise LookupError(f"not a recipe name: {name!r} (expected 'topic.function')")
    topic, function = match.groups()
    for package in PACKAGES:
        try:
            module = importlib.import_module(f"{package}.{topic}")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{package}.{topic}", package):
                raise
            continue  # not in this package, or hidden from this sandbox
        recipe = getattr(module, function, None)
        if callable(recipe):
            return recipe
    raise LookupError(f"no recipe {name!r} here (evaluator recipes run only in the evaluator)")
