"""grader.testing is the one module exercise tests import, and it stays cheap to import."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_TESTS = sorted([*ROOT.glob("exercises/*/test_*.py"), *ROOT.glob("solutions/*/test_*.py")])
ALLOWED_ROOTS = {"grader.testing", "pytest", "numpy"} | set(sys.stdlib_module_names)


def _loaded(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('kfp', 'tensorflow', 'keras')"
             " or m.startswith('grader.judging') or m.startswith('grader.sandbox.recipes'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_it_loads_no_kfp_tensorflow_or_judging():
    """What every exercise's tests import (hybrid_placement's too) loads neither kfp nor TensorFlow."""
    assert _loaded("import grader.testing\nfrom grader.testing import LearnerError, build, load_yaml") == []


def test_helpers_load_on_first_use_and_still_no_tensorflow_or_kfp_client():
    """kfp_ir, the TFLite evaluator's names and the Keras fixtures load when named, without TensorFlow or kfp."""
    loaded = _loaded("from grader.testing import kfp_ir, PipelineJobReport, RunReport, AGREEMENT, fixture_data")
    assert {"grader.judging.kfp_ir", "grader.judging.run_report", "grader.judging.job_report",
            "grader.judging.evaluators.tflite", "grader.sandbox.recipes.keras"} <= set(loaded)
    assert not [m for m in loaded if m.split(".")[0] in ("kfp", "tensorflow", "keras")], loaded


def test_unknown_names_are_attribute_errors():
    import grader.testing

    with pytest.raises(AttributeError):
        grader.testing.no_such_helper  # noqa: B018
    assert "kfp_ir" in dir(grader.testing)


@pytest.mark.parametrize("path", EXERCISE_TESTS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_exercise_tests_import_only_grader_testing(path):
    """Exercise and solution tests take the grader's pieces from grader.testing only (and pytest, stdlib, numpy)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module)
    stray = sorted(m for m in imported if m not in ALLOWED_ROOTS and m.split(".")[0] not in ALLOWED_ROOTS - {"grader"})
    assert not stray, f"{path.relative_to(ROOT)} imports {stray}: take them from grader.testing"
