"""What test authors import: the one module exercise tests (public and hidden) take the grader's pieces from.

Fixtures (``learner``, ``evaluator``, ``pipeline_runner``, ``exercise``,
``batch_cache``) come from the grading plugin; markers are plain pytest
(``@pytest.mark.points(2)``, ``@pytest.mark.visibility("hidden")``).

Importing this module stays cheap: the helpers that need kfp's protobufs or
the TFLite evaluator's code are modules loaded on first use (PEP 562), so an
exercise that never names them never loads them::

    from grader.testing import LearnerError, build          # always cheap
    from grader.testing import kfp_ir                        # compiled pipelines and local runs (RunReport)
    from grader.testing import PipelineJobReport             # a Vertex job as the evaluator judged it
    from grader.testing import tflite                        # the TFLite evaluator's tolerances and readings
    from grader.testing import keras_fixtures                # the course's fixture models and data
    from grader.testing import fixture_data, AGREEMENT       # their most used names, loaded the same way

None of them imports TensorFlow or kfp's client in the trusted process.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.errors import LearnerError, ModuleImportFailed, WorkerCrashed, WorkerTimeout
from grader.sandbox.wire import Build

if TYPE_CHECKING:  # pragma: no cover
    from grader.judging import job_report, kfp_ir, run_report
    from grader.judging.evaluators import tflite
    from grader.sandbox.recipes import keras as keras_fixtures

__all__ = ["build", "load_yaml", "Build", "LearnerError", "ModuleImportFailed", "WorkerCrashed", "WorkerTimeout",
           "kfp_ir", "run_report", "job_report", "tflite", "keras_fixtures"]
_LAZY = ("kfp_ir", "run_report", "job_report", "tflite", "keras_fixtures")
# Names of those modules offered here too: name -> (module above, its name there).
_NAMES = {
    "fixture_data": ("keras_fixtures", "fixture_data"),      # (x, y) of a fixture data set, by seed
    "fixture_file": ("keras_fixtures", "fixture_file"),      # a fixture file's bytes (a reference .tflite, ...)
    "probe_inputs": ("keras_fixtures", "probe_inputs"),      # inputs to compare two models on
    "public_reference": ("keras_fixtures", "public_reference"),  # an exercise's published reference numbers
    "AGREEMENT": ("tflite", "AGREEMENT"),                    # how far each TFLite variant may drift from Keras
    "deviation": ("tflite", "deviation"),                    # the largest difference between two outputs
    "weight_share": ("tflite", "weight_share"),              # the share of weight bytes stored as a dtype
    "TFLITE_KINDS": ("tflite", "KINDS"),                     # the TFLite variants the evaluator tells apart
    "RunReport": ("run_report", "RunReport"),                # a local KFP run, decoded (kfp_ir.run_jobs makes them)
    "PipelineJobReport": ("job_report", "PipelineJobReport"),  # a Vertex PipelineJob as the evaluator judged it
    "dag_tasks": ("job_report", "dag_tasks"),                # every task of a pipeline spec dict, sub-DAGs included
}


def build(recipe: str, *args, **kwargs) -> Build:
    """An argument the worker builds itself (a Keras model, a data set) from this description."""
    return Build(recipe, args, kwargs)


def load_yaml(data: bytes | str) -> Any:
    """The first document of YAML the course made (a package it compiled), with the safe loader."""
    import yaml

    return yaml.safe_load(data)


def __getattr__(name: str):
    """Load the heavier helper modules, and names of theirs, on first use (``from grader.testing import kfp_ir``)."""
    if name == "kfp_ir":
        from grader.judging import kfp_ir as found
    elif name == "run_report":
        from grader.judging import run_report as found
    elif name == "job_report":
        from grader.judging import job_report as found
    elif name == "tflite":
        from grader.judging.evaluators import tflite as found
    elif name == "keras_fixtures":
        from grader.sandbox.recipes import keras as found
    elif name in _NAMES:
        where, attribute = _NAMES[name]
        found = getattr(__getattr__(where), attribute)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_NAMES))
