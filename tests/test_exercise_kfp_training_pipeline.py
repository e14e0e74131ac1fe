"""kfp_training_pipeline graded end to end: reference, starter and typical mistakes.

Several independent mistakes share one submission when different tests
catch them; each must cost exactly its own test's points, with a message
that names it, while the unaffected tests keep theirs.
"""
from __future__ import annotations

from pathlib import Path

from grading_helpers import mutate as _mutate, assert_full_marks, kept, lost

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "kfp_training_pipeline"
REFERENCE = ROOT / "solutions" / EXERCISE / "pipeline.py"
STARTER = ROOT / "exercises" / EXERCISE / "pipeline.py"


# The rule's correct code and the learner's usual mistake, as the mutation table states them.
from mutants.kfp_training_pipeline import SEQUENTIAL_MISTAKE, SEQUENTIAL_UPDATE  # noqa: E402


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test."""
    result = grade(EXERCISE, REFERENCE)
    assert_full_marks(result)
    assert result.max_score >= 30 and result.score == result.max_score


def test_starter_earns_nothing(grade):
    """The starter imports and earns no points; failures point at the TODOs."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None and result.max_score >= 30, result
    assert result.score == 0, [(t.name, t.score) for t in result.tests if t.score]
    lost(result, "train_model run on its own", "NotImplementedError")


def test_task_settings_gate_and_update_mistakes(grade_source):
    """Unitless memory, caching left on, no retries, deploy outside dsl.If, sequential updates: each named."""
    source = _mutate(
        REFERENCE.read_text(),
        ("    data_task.set_caching_options(enable_caching=False)\n", ""),
        ('train_task.set_cpu_limit("2").set_memory_limit("4G").set_retry(num_retries=2)',
         'train_task.set_cpu_limit("2").set_memory_limit("4")'),
        ('    with dsl.If(train_task.outputs["Output"] >= accuracy_threshold, name="accuracy-gate"):\n'
         '        deploy_model(', '    if True:\n        deploy_model('),
        (SEQUENTIAL_UPDATE, SEQUENTIAL_MISTAKE),
    )
    result = grade_source(EXERCISE, source)
    lost(result, "CPU limit of 2 and a memory limit of 4G", "has no unit", "'4G'")
    lost(result, "prepare_data has caching disabled", "set_caching_options(enable_caching=False)")
    lost(result, "train_model is retried twice", "set_retry(num_retries=2)")
    lost(result, "deploy_model runs only inside dsl.If", "not inside a condition")
    lost(result, "misses the threshold: the model is not deployed", "dsl.If")
    lost(result, "weights and bias match the specification", "one parameter after another")
    lost(result, "train_model run on its own", "one parameter after another")
    for name in ("the dataset matches the specification", "prepare_data run on its own",
                 "deploy_model run on its own", "typed artifacts", "Artifacts flow prepare",
                 "contract's types and defaults"):
        kept(result, name)


def test_module_level_import_and_strict_gate(grade_source):
    """A component relying on a module-level import fails alone (NameError named); a strict > gate is named."""
    source = _mutate(
        REFERENCE.read_text(),
        ("from kfp import compiler, dsl\n", "import hashlib\n\nfrom kfp import compiler, dsl\n"),
        ("    import hashlib\n\n    with open(model.path, \"rb\")", "    with open(model.path, \"rb\")"),
        ('train_task.outputs["Output"] >= accuracy_threshold', 'train_task.outputs["Output"] > accuracy_threshold'),
    )
    result = grade_source(EXERCISE, source)
    lost(result, "deploy_model run on its own", "uses `hashlib` without importing", "inside the component's function body")
    lost(result, "deploy_model runs only inside dsl.If", "strict comparison", ">=")
    lost(result, "meets the threshold exactly: the model deploys", "did not run")
    for name in ("prepare_data run on its own", "train_model run on its own", "weights and bias match",
                 "misses the threshold", "the dataset matches"):
        kept(result, name)
