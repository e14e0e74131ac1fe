"""What test authors import: the pieces of the grader a test names directly.

Fixtures (``learner``, ``evaluator``, ``exercise``, ``batch_cache``) come from
the grading plugin; markers are plain pytest (``@pytest.mark.points(2)``,
``@pytest.mark.visibility("hidden")``).
"""
from __future__ import annotations

from grader.errors import LearnerError, ModuleImportFailed, WorkerCrashed, WorkerTimeout
from grader.sandbox.wire import Build

__all__ = ["build", "Build", "LearnerError", "ModuleImportFailed", "WorkerCrashed", "WorkerTimeout"]


def build(recipe: str, *args, **kwargs) -> Build:
    """An argument the worker builds itself (a Keras model, a data set) from this description."""
    return Build(recipe, args, kwargs)
