"""Benchmark single-submission grading against two anchors: otter-grader and nbgrader.

    .venv/bin/python benchmarks/anchors.py [--rounds 5] [--warmup 1] [--markdown FILE] [--cache-dir DIR]

Grades the reference solution of hybrid_placement and kfp_basic_pipeline as one
learner's submission, one submission per command, each command a cold start
(a new process, a fresh output folder), with three tools side by side:

- hml:      ``hml grade -e EXERCISE --force -o OUT placement.py`` (ROOT/.venv, default sandbox);
- otter:    ``otter run --no-logo -a autograder.zip -o OUT placement.ipynb`` (otter-grader 7, no Docker);
- nbgrader: ``nbgrader autograde EXERCISE --student learner --force`` (nbgrader 0.9, a course folder
  with source/release/submitted and a gradebook; the autograded folder and the gradebook's
  submission are removed before each command, untimed, so every command really grades).

The otter and nbgrader submission is a notebook of one code cell holding the reference
module's text (nbgrader's: its release notebook with that cell filled in, the test cells
after it as autograder tests). Rounds are interleaved (round r: hml, otter, nbgrader on the
first exercise, then on the second); an untimed warm-up round (--warmup) runs first. Each
command is timed with time.perf_counter around subprocess.run (output captured); its exit
status is checked, and so is its score: full marks out of hml's maximum, over as many tests
as hml ran (hml: OUT/<submission>/results.json; otter: its results.json; nbgrader: the
gradebook), so a broken anchor fails the benchmark instead of looking fast. Printed: the
median and min wall time per tool and exercise, and the faster anchor's median over hml's.

The anchors run the same checks as the project's tests (exercises/<id>/test_public.py and
solutions/<id>/test_hidden.py), ported to plain assertions below (CHECKS): one otter
exception-based test file per project test, one nbgrader autograder-test cell per project
test, each worth the project test's points. Helpers shared by the tests sit in SETUP
(otter: at the top of each test file; nbgrader: a locked cell before the tests); values a
pytest fixture computes once per module (a compiled package, a local run) are computed
once per grading here too. kfp's local runs use kfp.local's SubprocessRunner
(use_venv=False) with the same no-op ``pip`` shim hml puts first on its tasks' PYTHONPATH,
so neither side pays pip's start per task; kfp's log lines are discarded, as hml does.

Left out of the anchors (they rely on hml's sandbox or judging machinery), so the anchors
do LESS work than hml, which is conservative for hml:
- the sandbox itself: learner code runs in the anchors' own kernel, its values are used
  directly instead of crossing a wire as data; no separate pipeline-runner process, no
  per-task clean environment, session and kill of leftover processes;
- hml's time limits (call_timeout per call, 30 s per local pipeline run, 20 s per
  component run); the anchors have none beyond nbgrader's per-cell default;
- the diagnosis of each run package's component sources (undefined names and the like,
  feedback for failing tasks) and the feedback wording rules of hidden tests;
- hml's public feedback extras (hints), its gradebook-skip logic (--force is given).

The anchors are installed by the script into their own venv (CACHE/venv, CACHE defaults
to ~/.cache/hml-anchors), once: ``python -m venv``, then ``pip install
otter-grader==7.* nbgrader==0.9.*`` with kfp, kfp-pipeline-spec, kfp-server-api and numpy
at the versions pinned in ROOT/constraints.txt; a stamp file records what was installed,
and a later run reuses the venv when it matches. Scratch files go to CACHE/work (cleared
at the start of each run, kept afterwards for inspection).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("hybrid_placement", "kfp_basic_pipeline")
TOOLS = ("hml", "otter", "nbgrader")
ANCHORS = ("otter-grader==7.*", "nbgrader==0.9.*")
PINNED = ("kfp", "kfp-pipeline-spec", "kfp-server-api", "numpy")  # taken from ROOT/constraints.txt
STUDENT = "learner"
COURSE_ID = "hml-anchors"
TIMEOUT = 900  # seconds for one grading command: far beyond any of them, so a hang fails loudly


# --------------------------------------------------------------------------- the ported checks
# A check's body is plain Python using the learner's functions by name (the names in
# exercise.toml's ``functions``) and CACHE, a dict kept for one grading (a fixture's scope).

HYBRID_SETUP = r'''
CLOUD = {"connectivity": "always", "latency_budget_ms": 300, "data_residency": "cloud_ok",
         "model_size_mb": 120, "device_memory_mb": 0, "distinct_inputs": 50_000}
KEYS = ("connectivity", "latency_budget_ms", "data_residency",
        "model_size_mb", "device_memory_mb", "distinct_inputs")
BASE = {"connectivity": "always", "latency_budget_ms": 250, "data_residency": "cloud_ok",
        "model_size_mb": 40, "device_memory_mb": 512, "distinct_inputs": 5_000_000}


def w(**changes):
    return {**BASE, **changes}


TRAINING_ROWS = [
    (w(), "cloud"),
    (w(data_residency="on_prem_only"), "on_prem"),
    (w(data_residency="on_device_only"), "federated"),
    (w(data_residency="on_prem_only", connectivity="intermittent"), "on_prem"),
    (w(data_residency="on_device_only", connectivity="none", latency_budget_ms=30), "federated"),
    (w(connectivity="none", device_memory_mb=0), "cloud"),
]
CONNECTIVITY_ROWS = [
    (w(connectivity="always"), "cloud"),
    (w(connectivity="intermittent"), "edge"),
    (w(connectivity="none"), "edge"),
    (w(connectivity="intermittent", data_residency="on_prem_only"), "edge"),
]
LATENCY_ROWS = [
    (w(latency_budget_ms=100), "cloud"),
    (w(latency_budget_ms=99.5), "edge"),
    (w(latency_budget_ms=100.5), "cloud"),
    (w(latency_budget_ms=0), "edge"),
    (w(latency_budget_ms=99, data_residency="on_prem_only"), "edge"),
]
DEVICE_DATA_ROWS = [
    (w(data_residency="on_device_only"), "edge"),
    (w(data_residency="on_device_only", model_size_mb=300), "edge_quantized"),
    (w(data_residency="on_device_only", latency_budget_ms=5000, model_size_mb=15,
       device_memory_mb=64), "edge"),
]
QUARTER_ROWS = [
    (w(connectivity="none", model_size_mb=64, device_memory_mb=256), "edge"),
    (w(connectivity="none", model_size_mb=64.25, device_memory_mb=256), "edge_quantized"),
    (w(latency_budget_ms=50, model_size_mb=250.5, device_memory_mb=1002), "edge"),
    (w(connectivity="none", model_size_mb=0.5, device_memory_mb=2), "edge"),
]
QUANTIZED_ROWS = [
    (w(connectivity="none", model_size_mb=256, device_memory_mb=256), "edge_quantized"),
    (w(connectivity="none", model_size_mb=256.5, device_memory_mb=256), "infeasible"),
    (w(latency_budget_ms=10, model_size_mb=1000, device_memory_mb=512), "infeasible"),
    (w(latency_budget_ms=30, model_size_mb=100, device_memory_mb=120), "edge_quantized"),
]
NO_DEVICE_ROWS = [
    (w(connectivity="none", model_size_mb=5, device_memory_mb=0), "infeasible"),
    (w(connectivity="none", model_size_mb=0, device_memory_mb=0), "infeasible"),
    (w(latency_budget_ms=20, model_size_mb=1, device_memory_mb=0), "infeasible"),
    (w(data_residency="on_device_only", device_memory_mb=0), "infeasible"),
]
SERVER_ROWS = [
    (w(device_memory_mb=0), "cloud"),
    (w(data_residency="on_prem_only", latency_budget_ms=150), "on_prem"),
    (w(latency_budget_ms=5000, model_size_mb=10_000, device_memory_mb=0), "cloud"),
    (w(data_residency="on_prem_only", device_memory_mb=512), "on_prem"),
]
STATIC_ROWS = [
    (w(distinct_inputs=1_000_000), "static"),
    (w(distinct_inputs=1_000_001), "dynamic"),
    (w(data_residency="on_prem_only", distinct_inputs=0), "static"),
    (w(data_residency="on_prem_only", distinct_inputs=1_000_000), "static"),
    (w(distinct_inputs=999_999), "static"),
]
DEVICE_SERVING_ROWS = [
    (w(connectivity="none", distinct_inputs=10), "dynamic"),
    (w(latency_budget_ms=40, model_size_mb=300, distinct_inputs=1_000_000), "dynamic"),
    (w(connectivity="none", device_memory_mb=0, distinct_inputs=5), "dynamic"),
]
REASON_ROWS = [
    w(),
    w(data_residency="on_prem_only", distinct_inputs=10),
    w(connectivity="intermittent", model_size_mb=300),
    w(connectivity="none", device_memory_mb=0),
]
RULE_1 = "rule 1: training follows the data"
RULE_2_CONNECTIVITY = "rule 2: without constant connectivity the model must run on the device"
RULE_2_LATENCY = "rule 2: a latency budget under 100 ms requires the device, exactly 100 ms does not"
RULE_2_DATA = "rule 2: with data_residency 'on_device_only' the model must run on the device"
RULE_3_QUARTER = "rule 3: a model of at most a quarter of device memory runs on the device as it is"
RULE_3_QUANTIZED = "rule 3: quantized to a quarter of its size if that fits, else infeasible"
RULE_3_NO_DEVICE = "rule 3: with device_memory_mb 0 there is no device"
RULE_4 = "rule 4: on a server, on-prem for on_prem_only data, else the cloud"
RULE_5_STATIC = "rule 5: static serving only on a server with at most 1,000,000 distinct inputs"
RULE_5_DEVICE = "rule 5: a model on the device (or with nowhere to run) serves dynamically"


def _fields(result):
    assert isinstance(result, dict), f"place() must return a dict, not {type(result).__name__}"
    return {k: result.get(k) for k in ("training", "inference", "serving")}


def _place(place, workload):
    try:
        result = place(dict(workload))
    except Exception as exc:
        raise AssertionError(f"place() raised {type(exc).__name__} on a valid workload") from None
    assert isinstance(result, dict), "place() must return a dict"
    return result


def _text(value):
    return value if isinstance(value, str) else None


def _check(place, rows, field, rule):
    wrong = [workload for workload, expected in rows if _text(_place(place, workload).get(field)) != expected]
    assert not wrong, rule


def _raised(place, workload):
    try:
        place(workload)
    except Exception as exc:
        return exc
    return None


def _expect_value_error(place, workload, key, what):
    error = _raised(place, dict(BASE))
    assert error is None, f"{what} is only checked once place() accepts valid workloads"
    error = _raised(place, workload)
    assert error is not None, f"{what} must raise ValueError naming {key!r}, but place() returned normally"
    assert isinstance(error, ValueError), f"{what} must raise ValueError, not {type(error).__name__}"
    assert key in str(error), f"{what} raised ValueError, but its message does not name {key!r}"
'''

HYBRID_CHECKS = [
    # exercises/hybrid_placement/test_public.py
    ("test_readme_example", 2, False, '''
got = _fields(place({"connectivity": "intermittent", "latency_budget_ms": 250, "data_residency": "cloud_ok",
                     "model_size_mb": 40, "device_memory_mb": 100, "distinct_inputs": 10_000}))
expected = {"training": "cloud", "inference": "edge_quantized", "serving": "dynamic"}
assert got == expected, f"expected {expected}, got {got}"
'''),
    ("test_cloud_workload", 1, False, '''
got = _fields(place(dict(CLOUD)))
expected = {"training": "cloud", "inference": "cloud", "serving": "static"}
assert got == expected, f"expected {expected}, got {got}"
'''),
    ("test_on_prem_workload", 1, False, '''
got = _fields(place(dict(CLOUD, data_residency="on_prem_only", distinct_inputs=20_000_000)))
expected = {"training": "on_prem", "inference": "on_prem", "serving": "dynamic"}
assert got == expected, f"expected {expected}, got {got}"
'''),
    ("test_reasons_are_strings", 1, False, '''
reasons = place(dict(CLOUD)).get("reasons")
assert isinstance(reasons, list) and reasons and all(isinstance(r, str) for r in reasons), (
    f"reasons must be a non-empty list of strings, got {reasons!r}")
'''),
    ("test_missing_key_is_named", 1, False, '''
error = _raised(place, dict(CLOUD))
assert error is None, f"place() raised {type(error).__name__} on a valid workload"
error = _raised(place, {k: v for k, v in CLOUD.items() if k != "connectivity"})
assert error is not None, "a workload without 'connectivity' must raise ValueError, but place() returned normally"
assert isinstance(error, ValueError), f"a missing key must raise ValueError, not {type(error).__name__}"
assert "connectivity" in str(error), f"the ValueError must name 'connectivity'; its message was {str(error)!r}"
'''),
    # solutions/hybrid_placement/test_hidden.py
    ("test_training_follows_the_data", 2, True, '_check(place, TRAINING_ROWS, "training", RULE_1)'),
    ("test_connectivity_requires_the_device", 2, True,
     '_check(place, CONNECTIVITY_ROWS, "inference", RULE_2_CONNECTIVITY)'),
    ("test_latency_budget_boundary", 2, True, '_check(place, LATENCY_ROWS, "inference", RULE_2_LATENCY)'),
    ("test_on_device_data_requires_the_device", 2, True,
     '_check(place, DEVICE_DATA_ROWS, "inference", RULE_2_DATA)'),
    ("test_quarter_of_device_memory", 2, True, '_check(place, QUARTER_ROWS, "inference", RULE_3_QUARTER)'),
    ("test_quantized_or_infeasible", 2, True, '_check(place, QUANTIZED_ROWS, "inference", RULE_3_QUANTIZED)'),
    ("test_no_device_is_infeasible", 2, True, '_check(place, NO_DEVICE_ROWS, "inference", RULE_3_NO_DEVICE)'),
    ("test_server_side_inference", 1, True, '_check(place, SERVER_ROWS, "inference", RULE_4)'),
    ("test_static_serving_boundary", 2, True, '_check(place, STATIC_ROWS, "serving", RULE_5_STATIC)'),
    ("test_on_device_serving_is_dynamic", 1, True, '_check(place, DEVICE_SERVING_ROWS, "serving", RULE_5_DEVICE)'),
    ("test_reasons_are_given", 1, True, '''
for workload in REASON_ROWS:
    reasons = _place(place, workload).get("reasons")
    assert isinstance(reasons, list) and reasons, "reasons must be a non-empty list explaining the choices"
    assert all(isinstance(r, str) and r.strip() for r in reasons), "every entry of reasons must be a non-empty string"
'''),
    ("test_missing_keys_raise_value_error", 2, True, '''
for key in KEYS:
    _expect_value_error(place, {k: v for k, v in BASE.items() if k != key}, key, f"a workload without {key!r}")
'''),
    ("test_unknown_values_raise_value_error", 1, True, '''
for key, value in (("connectivity", "sometimes"), ("connectivity", ""),
                   ("data_residency", "eu_only"), ("data_residency", "cloud")):
    _expect_value_error(place, w(**{key: value}), key, f"an unknown {key}")
'''),
    ("test_negative_numbers_raise_value_error", 2, True, '''
for key, value in (("latency_budget_ms", -1), ("model_size_mb", -0.5),
                   ("device_memory_mb", -256), ("distinct_inputs", -10)):
    _expect_value_error(place, w(**{key: value}), key, f"a negative {key}")
'''),
    ("test_extra_keys_are_ignored", 1, True, '''
for workload, expected in [
    (w(team="search", gpu=True), {"training": "cloud", "inference": "cloud", "serving": "dynamic"}),
    (w(latency_budget_ms=50, notes=None, region="eu"),
     {"training": "cloud", "inference": "edge", "serving": "dynamic"}),
]:
    error = _raised(place, workload)
    assert error is None, f"keys outside the contract must be ignored, but place() raised {type(error).__name__}"
    result = place(workload)
    assert isinstance(result, dict) and all(_text(result.get(k)) == v for k, v in expected.items()), (
        "a workload with keys outside the contract must be placed as if they were absent")
'''),
]

KFP_SETUP = r'''
import contextlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

PIPELINE_INPUTS = {"a": "Kube", "b": "flow on Vertex é"}
CONCAT_INPUTS = {"a": "hybrid ", "b": "ML systems"}
REVERSE_INPUT = "portable, composable"


class PackageError(ValueError):
    pass


def _scratch(cache):
    if "scratch" not in cache:
        cache["scratch"] = Path(tempfile.mkdtemp(prefix="anchor-kfp-", dir=os.getcwd()))
    return cache["scratch"]


def _load(path):
    """A compiled package as kfp's PipelineSpec protobuf (what hml's kfp_ir.load parses it into)."""
    text = Path(path).read_text()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PackageError(f"the package is not valid YAML ({type(exc).__name__})") from None
    if not isinstance(document, dict) or "pipelineInfo" not in document or "root" not in document:
        raise PackageError("not a compiled KFP pipeline")
    spec = pipeline_spec_pb2.PipelineSpec()
    try:
        json_format.ParseDict(document, spec, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise PackageError(f"the package does not follow the KFP pipeline spec ({type(exc).__name__})") from None
    return spec


def _is_group(spec, task):
    comp = spec.components.get(task.component_ref.name)
    return comp is not None and comp.WhichOneof("implementation") == "dag"


def _all_tasks(spec):
    found = {}

    def walk(comp):
        for name, task in comp.dag.tasks.items():
            found[name] = task
            if _is_group(spec, task):
                walk(spec.components[task.component_ref.name])

    walk(spec.root)
    return found


def _task_names(spec, include_groups=False):
    return sorted(n for n, t in _all_tasks(spec).items() if include_groups or not _is_group(spec, t))


def _find_one(spec, function_name):
    from kfp.dsl.utils import maybe_rename_for_k8s

    pattern = re.compile(re.escape("comp-" + maybe_rename_for_k8s(function_name)) + r"(-\d+)?$")
    found = [(n, t) for n, t in _all_tasks(spec).items()
             if not _is_group(spec, t) and pattern.match(t.component_ref.name)]
    assert len(found) == 1, f"the pipeline calls {function_name} {len(found)} times; the exercise calls it once"
    return found[0]


def _interface(spec, task):
    comp = spec.components[task.component_ref.name]
    name = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name

    def side(defs):
        found = {k: name(v.parameter_type) for k, v in defs.parameters.items()}
        found.update({k: v.artifact_type.schema_title for k, v in defs.artifacts.items()})
        return found

    return {"inputs": side(comp.input_definitions), "outputs": side(comp.output_definitions)}


def _parameters(spec):
    found = {}
    for key, value in spec.root.input_definitions.parameters.items():
        entry = {"type": pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(value.parameter_type)}
        if value.HasField("default_value"):
            entry["default"] = json_format.MessageToDict(value.default_value)
        found[key] = entry
    return found


def _source(task, name):
    if name not in task.inputs.parameters:
        return None
    value = task.inputs.parameters[name]
    kind = value.WhichOneof("kind")
    if kind == "component_input_parameter":
        return ("pipeline_input", value.component_input_parameter)
    if kind == "task_output_parameter":
        return ("task_output", value.task_output_parameter.producer_task,
                value.task_output_parameter.output_parameter_key)
    return (kind,)


def _public_compiled(compile_pipeline, cache):
    """(package or None, problem or None) from the learner's compile_pipeline (test_public's fixture)."""
    if "public" not in cache:
        path = str(_scratch(cache) / "public-basic.yaml")
        try:
            compile_pipeline(path)
            cache["public"] = (_load(path), None)
        except OSError:
            cache["public"] = (None, "compile_pipeline wrote no file at the path it was given")
        except PackageError as exc:
            cache["public"] = (None, f"the file compile_pipeline wrote is not a pipeline package: {exc}")
        except Exception as exc:
            cache["public"] = (None, f"compile_pipeline raised {type(exc).__name__}: {exc}")
    return cache["public"]


def _hidden_compiled(compile_pipeline, basic_pipeline, cache):
    """hml's kfp_ir.compile_learner_package: the learner's compile_pipeline, kfp's compiler as fallback."""
    if "hidden" not in cache:
        found = {"package": None, "compile_problem": None, "package_problem": None}
        target = str(_scratch(cache) / "hidden-basic.yaml")
        try:
            if compile_pipeline(target) != target:
                found["compile_problem"] = "compile_pipeline must return the package_path it was given (a str)"
        except Exception as exc:
            found["compile_problem"] = f"compile_pipeline failed ({type(exc).__name__})"
        try:
            found["package"] = _load(target)
        except OSError:
            found["compile_problem"] = found["compile_problem"] or "compile_pipeline did not write a file"
        except PackageError as exc:
            found["compile_problem"] = found["compile_problem"] or f"not a pipeline package: {exc}"
        if found["package"] is None:
            from kfp import compiler

            fallback = target.replace(".yaml", "-kfp.yaml")
            try:
                compiler.Compiler().compile(basic_pipeline, fallback)
                found["package"] = _load(fallback)
            except Exception as exc:
                found["package_problem"] = f"basic_pipeline could not be compiled ({type(exc).__name__})"
        cache["hidden"] = found
    return cache["hidden"]


def _hidden_package(compile_pipeline, basic_pipeline, cache):
    compiled = _hidden_compiled(compile_pipeline, basic_pipeline, cache)
    assert compiled["package"] is not None, compiled["package_problem"] or compiled["compile_problem"]
    return compiled["package"]


def _run_jobs(cache, jobs):
    """Compile each (name, object, arguments) alone and run it with kfp.local: {"ok", "error", "tasks"} each."""
    from kfp import compiler, components, local

    scratch = _scratch(cache)
    shim = scratch / "pip_shim" / "pip"
    if not shim.is_dir():  # hml's pip shim: kfp's "python -m pip install kfp==..." task prelude succeeds at once
        shim.mkdir(parents=True)
        (shim / "__init__.py").write_text("")
        (shim / "__main__.py").write_text("import sys\nsys.exit(0)\n")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim.parent), os.environ.get("PYTHONPATH")]))
    reports = []
    for name, obj, arguments in jobs:
        base = scratch / f"run-{len(cache.setdefault('runs', [])):03d}"
        cache["runs"].append(name)
        base.mkdir()
        package = base / "package.yaml"
        try:
            compiler.Compiler().compile(obj, str(package))
        except Exception as exc:
            reports.append({"ok": False, "error": f"{name} does not compile: {type(exc).__name__}", "tasks": {}})
            continue
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(base / "root"),
                   workspace_root=str(base / "workspace"), raise_on_error=True)
        error = None
        try:
            target = components.load_component_from_text(package.read_text())
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                target(**arguments)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        tasks = {}
        for output in sorted((base / "root").glob("*/*/executor_output.json")):
            tasks[output.parent.name] = json.loads(output.read_text()).get("parameterValues") or {}
        reports.append({"ok": error is None, "error": error, "tasks": tasks})
    return reports


def _lab_run(basic_pipeline, cache):
    if "lab_run" not in cache:
        cache["lab_run"] = _run_jobs(cache, [("basic_pipeline", basic_pipeline, {})])[0]
    return cache["lab_run"]


def _hidden_runs(basic_pipeline, concat, reverse, cache):
    if "hidden_runs" not in cache:
        found = _run_jobs(cache, [("basic_pipeline", basic_pipeline, PIPELINE_INPUTS),
                                  ("concat", concat, CONCAT_INPUTS),
                                  ("reverse", reverse, {"a": REVERSE_INPUT})])
        cache["hidden_runs"] = dict(zip(("pipeline", "concat", "reverse"), found))
    return cache["hidden_runs"]
'''

KFP_CHECKS = [
    # exercises/kfp_basic_pipeline/test_public.py
    ("test_compile_writes_a_package", 1, False, '''
package, problem = _public_compiled(compile_pipeline, CACHE)
assert package is not None, problem
'''),
    ("test_package_shape", 1, False, '''
package, problem = _public_compiled(compile_pipeline, CACHE)
assert package is not None, problem
assert package.pipeline_info.name == "basic-pipeline", f"the pipeline is named {package.pipeline_info.name!r}"
assert _task_names(package) == ["concat", "reverse"], f"the pipeline's tasks are {_task_names(package)}"
defaults = {k: v["default"] for k, v in _parameters(package).items() if "default" in v}
assert defaults == {"a": "stres", "b": "sed"}, f"the pipeline's parameter defaults are {defaults}"
'''),
    ("test_lab_example_runs_locally", 2, False, '''
run = _lab_run(basic_pipeline, CACHE)
reverse_outputs = run["tasks"].get("reverse")
assert run["ok"] and reverse_outputs is not None, f"running basic_pipeline() failed: {run['error']}"
joined = run["tasks"].get("concat", {}).get("Output")
assert joined == "stressed", f"concat produced {joined!r} from 'stres' and 'sed'; expected 'stressed'"
assert reverse_outputs.get("after") == "desserts", f"reverse's output 'after' is {reverse_outputs.get('after')!r}"
assert reverse_outputs.get("before") == "stressed", f"reverse's output 'before' is {reverse_outputs.get('before')!r}"
'''),
    # solutions/kfp_basic_pipeline/test_hidden.py
    ("test_compile_pipeline", 1, True, '''
compiled = _hidden_compiled(compile_pipeline, basic_pipeline, CACHE)
assert compiled["compile_problem"] is None, compiled["compile_problem"]
'''),
    ("test_pipeline_name", 1, True, '''
package = _hidden_package(compile_pipeline, basic_pipeline, CACHE)
assert package.pipeline_info.name == "basic-pipeline", "the compiled pipeline's name is not 'basic-pipeline'"
'''),
    ("test_tasks", 1, True, '''
package = _hidden_package(compile_pipeline, basic_pipeline, CACHE)
names = _task_names(package, include_groups=True)
assert names == ["concat", "reverse"], f"the pipeline's tasks are {names}: call concat once and reverse once"
'''),
    ("test_component_interfaces", 2, True, '''
package = _hidden_package(compile_pipeline, basic_pipeline, CACHE)
found = _interface(package, _find_one(package, "concat")[1])
assert found == {"inputs": {"a": "STRING", "b": "STRING"}, "outputs": {"Output": "STRING"}}, (
    f"concat's interface is {found}")
found = _interface(package, _find_one(package, "reverse")[1])
assert found == {"inputs": {"a": "STRING"}, "outputs": {"after": "STRING", "before": "STRING"}}, (
    f"reverse's interface is {found}")
'''),
    ("test_data_edges", 2, True, '''
package = _hidden_package(compile_pipeline, basic_pipeline, CACHE)
concat_name, concat_task = _find_one(package, "concat")
assert _source(concat_task, "a") == ("pipeline_input", "a") and _source(concat_task, "b") == ("pipeline_input", "b"), (
    "concat must be called as concat(a=a, b=b) with the pipeline's own parameters")
assert _source(_find_one(package, "reverse")[1], "a") == ("task_output", concat_name, "Output"), (
    "reverse's input a must be concat's output")
'''),
    ("test_parameter_defaults", 1, True, '''
package = _hidden_package(compile_pipeline, basic_pipeline, CACHE)
params = _parameters(package)
assert sorted(params) == ["a", "b"], f"the pipeline's parameters are {sorted(params)}; expected a and b"
for name, default in (("a", "stres"), ("b", "sed")):
    assert params[name]["type"] == "STRING", f"pipeline parameter {name} must be annotated str"
    assert params[name].get("default") == default, f"pipeline parameter {name} must default to {default!r}"
'''),
    ("test_pipeline_run_on_other_inputs", 3, True, '''
run = _hidden_runs(basic_pipeline, concat, reverse, CACHE)["pipeline"]
reverse_outputs = run["tasks"].get("reverse")
assert run["ok"] and reverse_outputs is not None, "running basic_pipeline on other inputs failed"
assert reverse_outputs.get("after") == (PIPELINE_INPUTS["a"] + PIPELINE_INPUTS["b"])[::-1], (
    "on other inputs, reverse's output 'after' is not the mirror image of a + b")
'''),
    ("test_pipeline_run_intermediate_values", 1, True, '''
run = _hidden_runs(basic_pipeline, concat, reverse, CACHE)["pipeline"]
concat_outputs, reverse_outputs = run["tasks"].get("concat"), run["tasks"].get("reverse")
assert run["ok"] and concat_outputs is not None and reverse_outputs is not None, (
    "running basic_pipeline on other inputs failed")
joined = PIPELINE_INPUTS["a"] + PIPELINE_INPUTS["b"]
assert concat_outputs.get("Output") == joined, "on other inputs, concat's output is not a + b"
assert reverse_outputs.get("before") == joined, "on other inputs, reverse's output 'before' is not its input"
'''),
    ("test_concat_alone", 2, True, '''
run = _hidden_runs(basic_pipeline, concat, reverse, CACHE)["concat"]
outputs = run["tasks"].get("concat")
assert run["ok"] and outputs is not None, "running concat on its own failed"
assert outputs.get("Output") == CONCAT_INPUTS["a"] + CONCAT_INPUTS["b"], "concat run on its own does not return a + b"
'''),
    ("test_reverse_alone", 2, True, '''
run = _hidden_runs(basic_pipeline, concat, reverse, CACHE)["reverse"]
outputs = run["tasks"].get("reverse")
assert run["ok"] and outputs is not None, "running reverse on its own failed"
assert not (outputs.get("before") == REVERSE_INPUT[::-1] and outputs.get("after") == REVERSE_INPUT), (
    "reverse returns its values in the wrong order")
assert outputs.get("after") == REVERSE_INPUT[::-1], "reverse run on its own: 'after' is not its input reversed"
assert outputs.get("before") == REVERSE_INPUT, "reverse run on its own: 'before' is not its input unchanged"
'''),
]

PORTED = {
    "hybrid_placement": (HYBRID_SETUP, HYBRID_CHECKS),
    "kfp_basic_pipeline": (KFP_SETUP, KFP_CHECKS),
}


# --------------------------------------------------------------------------- helpers

def exercise_info(exercise_id: str) -> dict:
    """exercise.toml of an exercise (``file``, ``functions``...)."""
    return tomllib.loads((ROOT / "exercises" / exercise_id / "exercise.toml").read_text())


def top_level_names(source: str) -> set[str]:
    """Names a module (or a test cell run as one) binds at its top level."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


def run(command: list[str], *, cwd: Path | None = None, env: dict | None = None, what: str = "") -> subprocess.CompletedProcess:
    """Run a setup command; fail loudly (with its output) if it fails."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise SystemExit(f"{what or command[0]} failed (exit {done.returncode}): {' '.join(map(str, command))}\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def pinned_versions() -> list[str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if version and name.strip().lower() in PINNED:
            pins[name.strip().lower()] = f"{name.strip()}=={version.strip()}"
    missing = [name for name in PINNED if name not in pins]
    if missing:
        raise SystemExit(f"ROOT/constraints.txt pins no version of {', '.join(missing)}")
    return [pins[name] for name in PINNED]


def ensure_venv(cache: Path) -> Path:
    """The anchors' venv (CACHE/venv): created and installed once, reused while its stamp matches."""
    venv = cache / "venv"
    requirements = list(ANCHORS) + pinned_versions()
    stamp = venv / "hml-anchors.json"
    wanted = {"requirements": requirements, "python": sys.version}
    if stamp.is_file() and (venv / "bin" / "python").exists():
        try:
            if json.loads(stamp.read_text()) == wanted:
                return venv
        except ValueError:
            pass
    print(f"installing the anchors into {venv}: {' '.join(requirements)}", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "venv", "--clear", str(venv)], what="python -m venv")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements], what="pip install")
    stamp.write_text(json.dumps(wanted))
    return venv


def anchor_env(venv: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


def notebook(cells: list):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# --------------------------------------------------------------------------- building the anchors

def build_otter(exercise_id: str, module_text: str, work: Path, venv: Path) -> tuple[Path, Path]:
    """autograder.zip (one exception-based test file per project test) and the submission notebook."""
    import nbformat

    setup, checks = PORTED[exercise_id]
    learner_names = exercise_info(exercise_id)["functions"]
    folder = work / "otter" / exercise_id
    tests = folder / "tests"
    tests.mkdir(parents=True)
    bind = "".join(f"    {name} = env.get({name!r})\n" for name in learner_names)
    for name, points, hidden, body in checks:
        (tests / f"{name}.py").write_text(
            "from otter.test_files import test_case\n\n"
            f"OK_FORMAT = False\nname = {name!r}\n\n"
            f"{setup}\n\n"
            f"@test_case(name={name!r}, points={points}, hidden={hidden})\n"
            f"def check(env):\n{bind}"
            "    CACHE = env.setdefault('__anchor_cache__', {})\n"
            f"{textwrap.indent(body.strip(), '    ')}\n")
    zip_path = folder / "autograder.zip"
    run([str(venv / "bin" / "otter"), "generate", "-t", str(tests), "-o", str(zip_path),
         "--no-config", "--no-requirements", "--no-environment"], cwd=folder, env=anchor_env(venv),
        what="otter generate")
    submission = folder / "submission" / f"{Path(exercise_info(exercise_id)['file']).stem}.ipynb"
    submission.parent.mkdir()
    nbformat.write(notebook([nbformat.v4.new_code_cell(module_text)]), submission)
    return zip_path, submission


def build_nbgrader(exercise_id: str, module_text: str, work: Path, venv: Path) -> Path:
    """A course folder: source notebook (solution cell, setup cell, one test cell per project test),
    the release made by ``nbgrader generate_assignment``, and the learner's submitted notebook."""
    import nbformat

    setup, checks = PORTED[exercise_id]
    course = work / "nbgrader" / exercise_id
    stem = Path(exercise_info(exercise_id)["file"]).stem
    source = course / "source" / exercise_id / f"{stem}.ipynb"
    source.parent.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n")

    def meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
        found = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                 "solution": solution, "task": False}
        if points is not None:
            found["points"] = points
        return {"nbgrader": found}

    cells = [
        nbformat.v4.new_code_cell(f"### BEGIN SOLUTION\n{module_text}\n### END SOLUTION",
                                  metadata=meta("learner_module", solution=True)),
        nbformat.v4.new_code_cell(setup.strip(), metadata=meta("anchor_setup", locked=True)),
    ]
    for name, points, hidden, body in checks:
        code = "CACHE = globals().setdefault('__anchor_cache__', {})\n" + body.strip()
        if hidden:
            code = f"### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS"
        cells.append(nbformat.v4.new_code_cell(code, metadata=meta(name, grade=True, locked=True, points=points)))
    nbformat.write(notebook(cells), source)

    nbgrader = str(venv / "bin" / "nbgrader")
    env = anchor_env(venv)
    run([nbgrader, "db", "assignment", "add", exercise_id], cwd=course, env=env, what="nbgrader db assignment add")
    run([nbgrader, "db", "student", "add", STUDENT], cwd=course, env=env, what="nbgrader db student add")
    run([nbgrader, "generate_assignment", exercise_id, "--force"], cwd=course, env=env,
        what="nbgrader generate_assignment")
    released = nbformat.read(course / "release" / exercise_id / f"{stem}.ipynb", as_version=4)
    filled = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "learner_module"]
    if len(filled) != 1:
        raise SystemExit(f"nbgrader's release of {exercise_id} has no solution cell to fill in")
    filled[0].source = module_text
    submitted = course / "submitted" / STUDENT / exercise_id / f"{stem}.ipynb"
    submitted.parent.mkdir(parents=True)
    nbformat.write(released, submitted)
    return course


NBGRADER_SCORE = """
import json, sys
from nbgrader.api import Gradebook, MissingEntry
db, course_id, assignment, student, action = sys.argv[1:]
with Gradebook(db, course_id) as gb:
    if action == "reset":
        try:
            gb.remove_submission(assignment, student)
        except MissingEntry:
            pass
    else:
        s = gb.find_submission(assignment, student)
        grades = [(g.name, g.score, g.max_score) for n in s.notebooks for g in n.grades]
        print(json.dumps({"score": s.score, "max_score": s.max_score, "grades": grades}))
"""


# --------------------------------------------------------------------------- one grading per tool

class Grading:
    """How one tool grades one exercise's submission: prepare (untimed), the command, the check (untimed)."""

    def __init__(self, tool: str, exercise_id: str, work: Path, venv: Path, expected: tuple[float, int] | None):
        self.tool, self.exercise_id, self.work, self.venv = tool, exercise_id, work, venv
        self.expected = expected  # (max score, number of tests) from hml's results
        self.stem = Path(exercise_info(exercise_id)["file"]).stem
        self.count = 0
        self.out: Path | None = None

    def prepare(self) -> tuple[list[str], Path, dict | None]:
        self.count += 1
        if self.tool == "hml":
            self.out = self.work / "hml" / self.exercise_id / f"out-{self.count:02d}"
            submission = self.work / "hml" / self.exercise_id / "submission" / f"{self.stem}.py"
            return ([str(ROOT / ".venv" / "bin" / "hml"), "grade", "-e", self.exercise_id, "--force", "-q",
                     "-o", str(self.out), str(submission)], ROOT, None)
        if self.tool == "otter":
            folder = self.work / "otter" / self.exercise_id
            self.out = folder / f"out-{self.count:02d}"
            self.out.mkdir()
            return ([str(self.venv / "bin" / "otter"), "run", "--no-logo", "-a", str(folder / "autograder.zip"),
                     "-o", str(self.out), str(folder / "submission" / f"{self.stem}.ipynb")],
                    folder, anchor_env(self.venv))
        course = self.work / "nbgrader" / self.exercise_id
        shutil.rmtree(course / "autograded", ignore_errors=True)
        run([str(self.venv / "bin" / "python"), "-c", NBGRADER_SCORE, f"sqlite:///{course / 'gradebook.db'}",
             COURSE_ID, self.exercise_id, STUDENT, "reset"], cwd=course, env=anchor_env(self.venv),
            what="removing the nbgrader submission")
        return ([str(self.venv / "bin" / "nbgrader"), "autograde", self.exercise_id, "--student", STUDENT, "--force"],
                course, anchor_env(self.venv))

    def score(self) -> tuple[float, float, int, list[str]]:
        """(score, max score, number of tests, tests not at full marks) of the grading just done."""
        if self.tool == "hml":
            results = json.loads((self.out / self.stem / "results.json").read_text())
            tests = results.get("tests", [])
            failed = [t["name"] for t in tests if t.get("score") != t.get("max_score") or t.get("status") != "passed"]
            return results["score"], results["extra_data"]["max_score"], len(tests), failed
        if self.tool == "otter":
            results = json.loads((self.out / "results.json").read_text())
            tests = [t for t in results.get("tests", []) if "max_score" in t]
            failed = [t["name"] for t in tests if t["score"] != t["max_score"]]
            failed += [t["name"] for t in results.get("tests", []) if t.get("status") == "failed"]
            return (sum(t["score"] for t in tests), sum(t["max_score"] for t in tests), len(tests), failed)
        course = self.work / "nbgrader" / self.exercise_id
        done = run([str(self.venv / "bin" / "python"), "-c", NBGRADER_SCORE, f"sqlite:///{course / 'gradebook.db'}",
                    COURSE_ID, self.exercise_id, STUDENT, "score"], cwd=course, env=anchor_env(self.venv),
                   what="reading the nbgrader gradebook")
        found = json.loads(done.stdout)
        failed = [name for name, score, maximum in found["grades"] if score != maximum]
        return found["score"], found["max_score"], len(found["grades"]), failed

    def once(self) -> float:
        """Grade once: the wall time of the command; SystemExit unless it ran and earned full marks."""
        command, cwd, env = self.prepare()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        elapsed = time.perf_counter() - started
        where = f"{self.tool} on {self.exercise_id}"
        if done.returncode != 0:
            raise SystemExit(f"{where} failed (exit {done.returncode}): {' '.join(command)}\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        try:
            score, maximum, count, failed = self.score()
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"{where}: no results to read ({type(exc).__name__}: {exc})\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}") from None
        expected_max, expected_count = self.expected or (maximum, count)
        if failed or score != maximum or maximum != expected_max or count != expected_count:
            raise SystemExit(f"{where} did not grade full marks: {score:g}/{maximum:g} over {count} tests "
                             f"(hml: {expected_max:g} over {expected_count}); not at full marks: {failed}\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return elapsed


def prepare(work: Path, venv: Path) -> dict[str, dict[str, Grading]]:
    """Every tool's files for every exercise, and one grading by hml for the expected points."""
    gradings: dict[str, dict[str, Grading]] = {}
    for exercise_id in EXERCISES:
        info = exercise_info(exercise_id)
        module_text = (ROOT / "solutions" / exercise_id / info["file"]).read_text()
        setup, checks = PORTED[exercise_id]
        ours = set.union({"CACHE"}, top_level_names(setup), *(top_level_names(body) for *_, body in checks))
        clash = top_level_names(module_text) & ours
        if clash:
            raise SystemExit(f"the ported checks of {exercise_id} would overwrite the learner's {sorted(clash)}")
        submission = work / "hml" / exercise_id / "submission" / info["file"]
        submission.parent.mkdir(parents=True)
        submission.write_text(module_text)
        hml = Grading("hml", exercise_id, work, venv, None)
        hml.once()
        _, maximum, count, _ = hml.score()
        ported = (sum(points for _, points, _, _ in checks), len(checks))
        if ported != (maximum, count):
            raise SystemExit(f"{exercise_id}: the ported checks are worth {ported[0]} points over {ported[1]} tests, "
                             f"hml's {maximum:g} over {count}: the port is out of date")
        build_otter(exercise_id, module_text, work, venv)
        build_nbgrader(exercise_id, module_text, work, venv)
        gradings[exercise_id] = {"hml": hml, **{tool: Grading(tool, exercise_id, work, venv, (maximum, count))
                                                for tool in TOOLS[1:]}}
    return gradings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (checked all the same)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "hml-anchors",
                        help="where the anchors' venv and the scratch folder live")
    options = parser.parse_args(argv)
    if not (ROOT / ".venv" / "bin" / "hml").exists():
        print("ROOT/.venv/bin/hml is missing: run 'make install' first")
        return 1
    cache = options.cache_dir.expanduser().resolve()
    venv = ensure_venv(cache)
    work = cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    gradings = prepare(work, venv)
    times: dict[tuple[str, str], list[float]] = {(e, t): [] for e in EXERCISES for t in TOOLS}
    load_before = os.getloadavg()[0]
    for number in range(options.warmup + options.rounds):
        timed = number >= options.warmup
        for exercise_id in EXERCISES:
            for tool in TOOLS:
                elapsed = gradings[exercise_id][tool].once()
                if timed:
                    times[exercise_id, tool].append(elapsed)
        label = f"round {number - options.warmup + 1}/{options.rounds}" if timed else f"warm-up {number + 1}"
        print(f"  {label}: " + ", ".join(f"{e} {t} {times[e, t][-1]:.2f}s" if timed else f"{e} ok"
                                         for e in EXERCISES for t in (TOOLS if timed else TOOLS[:1])), flush=True)
    load_after = os.getloadavg()[0]

    say()
    say(f"single-submission grading, cold start per command, {options.rounds} interleaved rounds "
        f"(+{options.warmup} untimed), {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
        f"{load_after:.1f} after; seconds, median (min); every run graded full marks")
    say()
    say("| exercise | hml | otter | nbgrader | faster anchor / hml (median) |")
    say("| --- | ---: | ---: | ---: | ---: |")
    for exercise_id in EXERCISES:
        medians = {t: statistics.median(times[exercise_id, t]) for t in TOOLS}
        cells = [f"{medians[t]:.2f} ({min(times[exercise_id, t]):.2f})" for t in TOOLS]
        faster = min(TOOLS[1:], key=lambda t: medians[t])
        say(f"| {exercise_id} | {' | '.join(cells)} | {faster}: {medians[faster] / medians['hml']:.2f} |")
    if options.markdown:
        options.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
