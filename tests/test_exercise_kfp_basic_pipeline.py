"""kfp_basic_pipeline graded end to end: reference, starter and typical mistakes.

Each submission goes through intake, the sandbox, kfp.local and the hidden
tests, exactly as an instructor's grading would. Mistakes that different
tests catch share one submission, so a few gradings cover many mistakes.
"""
from __future__ import annotations

from pathlib import Path

from grading_helpers import mutate as _mutate, assert_full_marks, kept, lost

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "kfp_basic_pipeline"
REFERENCE = ROOT / "solutions" / EXERCISE / "pipeline.py"
STARTER = ROOT / "exercises" / EXERCISE / "pipeline.py"


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test, within the time budget."""
    result = grade(EXERCISE, REFERENCE)
    assert_full_marks(result)
    assert result.max_score >= 20 and result.score == result.max_score
    assert result.execution_time < 6 * 3, f"grading took {result.execution_time:.1f}s"  # 6 s target; slack for a loaded CI


def test_starter_earns_nothing_and_points_to_the_todos(grade):
    """The starter as shipped imports, earns no points, and every failure points at a TODO."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None and result.max_score >= 20, result
    assert result.score == 0, [(t.name, t.score) for t in result.tests if t.score]
    lost(result, "run on its own joins", "NotImplementedError")
    lost(result, "The pipeline is named", "decorate it with @dsl.pipeline")
    lost(result, "compile_pipeline writes the package", "NotImplementedError")


def test_several_mistakes_each_lose_their_own_points(grade_source):
    """A module-level import, swapped NamedTuple order, a wrong name and a wrong default: each named."""
    source = _mutate(
        REFERENCE.read_text(),
        ("from kfp import compiler, dsl\n", "import operator\n\nfrom kfp import compiler, dsl\n"),
        ("    return a + b\n", "    return operator.add(a, b)\n"),          # needs the module-level import
        ("    return outputs(a, a[::-1])\n", "    return outputs(a[::-1], a)\n"),  # swapped order
        ('@dsl.pipeline(name="basic-pipeline"', '@dsl.pipeline(name="lab-pipeline"'),
        ('b: str = "sed"', 'b: str = "seed"'),
    )
    result = grade_source(EXERCISE, source)
    lost(result, "concat run on its own", "uses `operator` without importing", "inside the component's function body")
    lost(result, "reverse run on its own", "wrong order")
    lost(result, "The pipeline is named basic-pipeline", "'basic-pipeline'")
    lost(result, "defaulting to the lab's", "default to 'sed'")
    lost(result, "mirror of a + b", "the component concat uses `operator`")
    for name in ("writes the package to package_path", "exactly two tasks", "contract's inputs and outputs",
                 "reverse reads concat's output"):
        kept(result, name)


def test_positional_arguments_are_named(grade_source):
    """concat(a, b) in the pipeline (the KFP v1 habit) fails the module's import with KFP's own reason."""
    source = _mutate(REFERENCE.read_text(), ("concat_task = concat(a=a, b=b)", "concat_task = concat(a, b)"))
    result = grade_source(EXERCISE, source)
    assert result.score == 0, [(t.name, t.score) for t in result.tests if t.score]
    # The public tests show KFP's reason; hidden ones point there (the message is the learner's text).
    lost(result, "Run locally with the defaults", "keyword arguments")
    lost(result, "mirror of a + b", "could not be imported", "the public tests")


def test_hidden_feedback_never_shows_hidden_inputs(grade_source):
    """A pipeline that returns something else: hidden messages never quote the hidden inputs or outputs."""
    source = _mutate(REFERENCE.read_text(), ("    return a + b\n", "    return b + a\n"))
    result = grade_source(EXERCISE, source)
    lost(result, "mirror of a + b", "not the mirror image")
    lost(result, "concat run on its own", "does not return a + b")
    hidden_text = ("Kube", "flow on Vertex", "hybrid ", "ML systems", "portable, composable")
    for test in result.tests:
        if test.visibility != "visible":
            assert not any(text in test.output for text in hidden_text), test


def test_notebook_submission_runs_its_components(grade, tmp_path):
    """A notebook holding the reference earns full marks: components need their source on disk to run."""
    from grader.intake.notebooks import module_to_notebook, write_notebook

    notebook = module_to_notebook(REFERENCE.read_text())
    path = tmp_path / "pipeline.ipynb"
    write_notebook(notebook, path)
    result = grade(EXERCISE, path)
    assert result.error is None and result.refused is None, result
    assert result.failed() == [], [(t.name, t.output) for t in result.failed()]
