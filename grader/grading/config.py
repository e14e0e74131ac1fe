"""What the coordinator hands each trusted pytest process, and what each kind of worker is.

Kept apart from the plugin (``plugin.py``), which imports pytest: the
coordinator writes the configuration and starts the warm pools without
paying for that import.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
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


def trusted_imports(exercises: Iterable) -> list[str]:
    """What the trusted pytest runs of ``exercises`` import besides pytest and the plugin: numpy where their
    tests name it, kfp's IR modules where they read KFP pipelines."""
    exercises = list(exercises)
    found = []
    if any(re.search(r"\bnumpy\b", path.read_text(errors="replace"))
           for exercise in exercises for path in exercise.public_tests + exercise.hidden_tests):
        found.append("numpy")
    if any(name.split(".")[0] == "kfp" for exercise in exercises for name in exercise.preload):
        from grader.judging.kfp_ir import KFP_MODULES

        found += KFP_MODULES
    return found


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

    @classmethod
    def read(cls, path: str) -> "GradingConfig":
        return cls(**json.loads(Path(path).read_text()))
