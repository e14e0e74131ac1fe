"""Recipes: trusted project code that runs inside a worker.

A recipe builds a rich object from a description (a Keras model from a
fixture name), turns a learner's result into data (a PipelineJob into its
resource dict), or drives the learner's module (a local pipeline run). Tests
name recipes as ``"<topic>.<function>"``; only functions of modules in this
package can be named.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

_NAME = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")


@dataclass
class Context:
    module: ModuleType | None  # the learner's module; None in an evaluator
    scratch: Path


def resolve(name: str) -> Callable[..., Any]:
    match = _NAME.match(name or "")
    if not match:
        raise LookupError(f"not a recipe name: {name!r} (expected 'topic.function')")
    topic, function = match.groups()
    module = importlib.import_module(f"{__name__}.{topic}")
    recipe = getattr(module, function, None)
    if not callable(recipe):
        raise LookupError(f"no recipe {function!r} in grader/recipes/{topic}.py")
    return recipe
