"""Hints in tiers: the first failure of a public test shows its author's first hint; `hml check --hint TEST`
shows one more each time, until the last; hints are read from the public test files, never imported."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.hints import HintsNotLiteral, authored_hints, function_of
from grader.course.model import Course

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course(ROOT)
EXERCISE = COURSE.exercise("hybrid_placement")


def test_hints_are_read_from_the_file_as_written(tmp_path):
    """Hints are string literals read with ast, whitespace folded; anything else (a name, an f-string: text
    that could be computed) is refused by name; a test without the marker has none."""
    tests = tmp_path / "test_public.py"
    tests.write_text('import pytest\n\n@pytest.mark.points(1)\n@pytest.mark.hints("First,\\n   nudge.", "Second.")\n'
                     'def test_a(learner):\n    """A"""\n\n@pytest.mark.points(1)\ndef test_b(learner):\n    pass\n')
    assert authored_hints([tests]) == {"test_a": ("First, nudge.", "Second.")}
    tests.write_text('import pytest\nSECRET = "x"\n\n@pytest.mark.hints(SECRET)\ndef test_a(learner):\n    pass\n')
    with pytest.raises(HintsNotLiteral, match="test_a"):
        authored_hints([tests])
    assert function_of("test_public.py::test_a[case-1]") == "test_a"


def test_every_public_test_of_the_course_has_hints_in_tiers():
    """Each public test of every exercise carries at least two tiers (the README is the statement; hints lead
    to it, from a nudge to nearly the answer)."""
    for exercise in COURSE.exercises():
        hints = authored_hints(exercise.public_tests)
        names = [n for n in _test_functions(exercise.public_tests)]
        assert names and set(names) <= set(hints), (exercise.id, sorted(set(names) - set(hints)))
        assert all(len(tiers) >= 2 for tiers in hints.values()), exercise.id


def _test_functions(paths):
    import ast

    for path in paths:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                yield node.name


def _hml(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_tiers_open_one_at_a_time(tmp_path, sandboxed):
    """A workspace whose `place` returns the wrong answers: `hml check` shows the first hint of a failing test
    and not its second; `hml check --hint TEST` shows the second (and says how to get the third); the next
    check shows both; past the last tier, the last stays and says so; an unknown test is a one-line error that
    lists the tests with hints."""
    env = dict(os.environ, HML_CACHE_DIR=str(tmp_path / "cache"), COLUMNS="200")
    _hml(["start", EXERCISE.id, "--dir", str(tmp_path / "work")], tmp_path, env)
    work = tmp_path / "work"
    module = work / EXERCISE.file
    reference = EXERCISE.reference.read_text()
    module.write_text(reference.replace('"edge_quantized"', '"edge_quantised"'))  # one rule spelled wrong
    hints = authored_hints(EXERCISE.public_tests)
    tiers = hints["test_readme_example"]
    assert len(tiers) >= 2

    first = _hml(["check"], work, env)
    assert first.returncode == 1
    out = " ".join(first.stdout.split())
    assert f"Hint 1/{len(tiers)}: {' '.join(tiers[0].split())}" in out, first.stdout
    assert tiers[1] not in out

    second = _hml(["check", "--hint", "readme_example"], work, env)
    out2 = " ".join(second.stdout.split())
    assert second.returncode == 0 and tiers[1] in out2 and tiers[0] in out2, second.stdout + second.stderr
    again = " ".join(_hml(["check"], work, env).stdout.split())
    assert tiers[0] in again and tiers[1] in again

    for _ in range(len(tiers)):
        last = _hml(["check", "--hint", "test_readme_example"], work, env)
    assert "that is the last hint" in last.stdout and " ".join(tiers[-1].split()) in " ".join(last.stdout.split())

    unknown = _hml(["check", "--hint", "no_such_test"], work, env)
    assert unknown.returncode != 0 and "no public test called 'no_such_test' has hints" in unknown.stderr
    assert "Traceback" not in unknown.stderr
