"""kfp_sweep graded end to end: reference, starter and typical mistakes."""
from __future__ import annotations

from pathlib import Path

from grading_helpers import mutate as _mutate, assert_full_marks, kept, lost

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "kfp_sweep"
REFERENCE = ROOT / "solutions" / EXERCISE / "pipeline.py"
STARTER = ROOT / "exercises" / EXERCISE / "pipeline.py"


def test_reference_earns_full_marks_quickly(grade):
    """The reference passes every test; grading one sweep stays well under a minute."""
    result = grade(EXERCISE, REFERENCE)
    assert_full_marks(result)
    assert result.max_score >= 20 and result.score == result.max_score
    assert result.execution_time < 30, f"grading took {result.execution_time:.1f}s"


def test_starter_earns_nothing(grade):
    """The starter imports and earns no points."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None and result.max_score >= 20, result
    assert result.score == 0, [(t.name, t.score) for t in result.tests if t.score]
    lost(result, "pick_best run on its own", "NotImplementedError")


def test_no_limit_larger_rate_on_tie_and_no_exit_handler(grade_source):
    """No parallelism limit, ties broken toward the larger rate, announce as a plain last task: each named."""
    source = _mutate(
        REFERENCE.read_text(),
        ("dsl.ParallelFor(learning_rates, parallelism=2)", "dsl.ParallelFor(learning_rates)"),
        ("(score == best_score and rate < best_rate)", "(score == best_score and rate > best_rate)"),
        ('    exit_task = announce(message="sweep finished")\n    with dsl.ExitHandler(exit_task):\n'
         '        with dsl.ParallelFor', '    if True:\n        with dsl.ParallelFor'),
        ("        pick_best(learning_rates=learning_rates, scores=dsl.Collected(candidate.output))\n",
         "        best = pick_best(learning_rates=learning_rates, scores=dsl.Collected(candidate.output))\n"
         '    announce(message="sweep finished").after(best)\n'),
    )
    result = grade_source(EXERCISE, source)
    lost(result, "at most 2 candidates at a time", "no parallelism limit", "parallelism=2")
    lost(result, "pick_best returns the smaller of the tied best rates", "smaller one")
    lost(result, "pick_best run on its own", "smaller learning rate")
    lost(result, "exit task of a dsl.ExitHandler", "does not run when the sweep fails")
    lost(result, "Sweep whose body fails: the exit task still runs", "announce did not run")
    for name in ("every candidate is scored", "dsl.ParallelFor over learning_rates", "collected scores",
                 "the exit task announces the end", "train_candidate run on its own", "announce run on its own"):
        kept(result, name)


def test_module_level_import_fails_the_component_alone(grade_source):
    """train_candidate relying on a module-level `import math` fails on its own, with the NameError named."""
    source = _mutate(
        REFERENCE.read_text(),
        ("from typing import List\n", "import math\nfrom typing import List\n"),
        ("    import math\n\n    return round(", "    return round("),
    )
    result = grade_source(EXERCISE, source)
    lost(result, "train_candidate run on its own", "uses `math` without importing", "inside the component's function body")
    lost(result, "every candidate is scored", "`math`")
    for name in ("pick_best run on its own", "announce run on its own", "at most 2 candidates", "collected scores",
                 "exit task still runs"):
        kept(result, name)
