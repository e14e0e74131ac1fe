"""Quiz commands start fast: no TensorFlow, kfp or google.cloud import in grader.quiz or its commands."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUIZ_PACKAGE = ROOT / "grader" / "quiz"
QUIZ_COMMANDS = ROOT / "grader" / "commands" / "quiz.py"
HEAVY = ("tensorflow", "kfp", "google.cloud.aiplatform")
FORBIDDEN_PREFIXES = ("tensorflow", "kfp", "google.cloud", "ai_edge_litert", "keras")


def test_importing_the_quiz_commands_pulls_in_no_heavy_library():
    """A fresh interpreter that imports grader.commands.quiz has none of tensorflow, kfp, google.cloud.aiplatform."""
    code = ("import json, sys; import grader.commands.quiz; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'tensorflow', 'kfp'} "
            "or m.startswith('google.cloud.aiplatform'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_no_module_of_the_quiz_package_imports_a_heavy_library():
    """No import statement in grader/quiz or its commands (even a lazy one inside a function) names a heavy library."""
    offenders = []
    for path in [*sorted(QUIZ_PACKAGE.rglob("*.py")), QUIZ_COMMANDS]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN_PREFIXES)]
    assert offenders == []


def _hml_registers_quiz() -> bool:
    cli = ROOT / "grader" / "cli.py"
    return cli.is_file() and "grader.commands.quiz:quiz" in cli.read_text()


@pytest.mark.skipif(not _hml_registers_quiz(), reason="grader/cli.py does not register the `quiz` group yet")
def test_real_hml_quiz_help_lists_the_quiz_commands():
    """`hml quiz --help` through the installed console script lists the quiz commands."""
    hml = Path(sys.executable).with_name("hml")
    if not hml.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    done = subprocess.run([str(hml), "quiz", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for command in ("list", "take", "grade", "history", "export"):
        assert command in done.stdout
