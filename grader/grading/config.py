"""What the coordinator hands each trusted pytest process, and what each kind of worker is.

Kept apart from the plugin (``plugin.py``), which imports pytest: the
coordinator writes the configuration and starts the warm pools without
paying for that import.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from grader.sandbox.launch import Limits

PIPELINE_RUNNER_PRELOAD = ("kfp", "kfp.dsl", "kfp.local", "kfp.components", "grader.sandbox.recipes.kfp_local")
WORKER_KINDS = ("learner", "evaluator", "pipeline_runner")


def worker_settings(exercise, kind: str) -> tuple[list[str], Limits, bool]:
    """What a worker of ``kind`` imports, its limits, and whether learner code runs in it: decided here for the
    workers a grading starts and for the warm pools they fork from (``grader/grading/warm_pools.py``)."""
    if kind == "learner":
        return list(exercise.preload), Limits(memory_mb=exercise.memory_mb), True
    if kind == "evaluator":
        return list(exercise.evaluator_preload), Limits(memory_mb=max(exercise.memory_mb, 4096)), False
    if kind == "pipeline_runner":
        return list(PIPELINE_RUNNER_PRELOAD), Limits(memory_mb=exercise.memory_mb), True
    raise ValueError(f"unknown kind of worker {kind!r}")


@dataclass(frozen=True)
class SuiteNeeds:
    """What an exercise's tests use, read once from their files."""

    kinds: tuple[str, ...]    # the kinds of worker they ask for (a kind they never name starts no pool)
    imports: tuple[str, ...]  # what their trusted run imports besides pytest and the plugin


def suite_needs(exercise) -> SuiteNeeds:
    """Numpy where the tests name it, kfp's IR modules where they read KFP pipelines; the workers they name.
    Decided once per version of the test files (a cluster node outlives an edit of them)."""
    tests = exercise.public_tests + exercise.hidden_tests
    return _suite_needs(tuple((path, path.stat().st_mtime_ns) for path in tests), tuple(exercise.preload))


@functools.lru_cache(maxsize=64)
def _suite_needs(tests: tuple[tuple[Path, int], ...], preload: tuple[str, ...]) -> SuiteNeeds:
    text = "\n".join(path.read_text(errors="replace") for path, _ in tests)
    kinds = tuple(kind for kind in WORKER_KINDS if kind == "learner" or re.search(rf"\b{kind}\b", text))
    imports = ["numpy"] if re.search(r"\bnumpy\b", text) else []
    if any(name.split(".")[0] == "kfp" for name in preload):
        from grader.judging.kfp_ir import KFP_MODULES

        imports += KFP_MODULES
    return SuiteNeeds(kinds, tuple(imports))


def trusted_imports(exercises: Iterable) -> list[str]:
    """What the trusted runs of ``exercises`` import besides pytest and the plugin, each once."""
    return list(dict.fromkeys(name for exercise in exercises for name in suite_needs(exercise).imports))


@dataclass
class GradingConfig:
    exercise: str
    course_root: str
    submission: str
    results_path: str
    prepared: str | None = None  # the prepared submission's folder; None when it was refused
    refused: str | None = None
    sandbox: str = "bwrap"  # a grader.sandbox.launch.Sandbox value, chosen by the coordinator
    cache_dir: str | None = None
    pools: dict[str, dict] | None = None  # kind of worker -> a warm pool's address (grader.sandbox.pool)
    imports: list[str] = field(default_factory=list)  # what the checks import (``suite_needs``)

    @classmethod
    def read(cls, path: str) -> "GradingConfig":
        return cls(**json.loads(Path(path).read_text()))
