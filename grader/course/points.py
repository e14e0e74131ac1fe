"""How many points an exercise's tests are worth, read without running anything.

``hml list`` shows each exercise's points. Counting them must not import a
learner's code, start a worker or even import the test modules when it can
be helped: the ``points`` markers are read from the test files' syntax tree
(``ast``). A test file whose points cannot be read statically (a
``parametrize`` over a computed list, points held in an expression) is
collected by pytest instead, in a subprocess, through the same markers the
grader uses; collection imports the course's own test modules, never a
submission.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course import markers

if TYPE_CHECKING:  # pytest is needed only when this module is loaded as a plugin
    import pytest


class Unresolved(Exception):
    """The file's points depend on something only running it would tell."""


@dataclass
class ExercisePoints:
    public: float
    hidden: float | None  # None when the hidden tests are not here (a learner's copy of the course)

    @property
    def total(self) -> float | None:
        return None if self.hidden is None else self.public + self.hidden


def exercise_points(exercise) -> ExercisePoints:
    """Points of an exercise's public tests and, where present, of its hidden tests."""
    hidden_files = exercise.hidden_tests
    hidden = files_points(hidden_files) if exercise.solution_dir.is_dir() and hidden_files else None
    return ExercisePoints(files_points(exercise.public_tests), hidden)


def files_points(paths: list[Path]) -> float:
    total = 0.0
    unresolved = []
    for path in paths:
        try:
            total += file_points(path.read_text())
        except (Unresolved, SyntaxError):
            unresolved.append(path)
    if unresolved:
        total += collected_points(unresolved)
    return total


# --- reading the syntax tree --------------------------------------------------

def file_points(source: str) -> float:
    """Sum of the points of the tests in one test module's source; ``Unresolved`` if unsure."""
    tree = ast.parse(source)
    constants = _module_constants(tree)
    module_points = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            module_points = _points_in_marks(node.value, constants, module_points)
    total = 0.0
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            total += _test_points(node, constants, module_points)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            inherited = module_points
            for member in node.body:  # a class-level `pytestmark` applies to its tests, before its decorators
                if isinstance(member, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                          for t in member.targets):
                    inherited = _points_in_marks(member.value, constants, inherited)
            class_points, class_cases = _decorators(node.decorator_list, constants, inherited)
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and member.name.startswith("test"):
                    total += _test_points(member, constants, class_points) * class_cases
    return total


def _test_points(node, constants: dict, inherited: float | None) -> float:
    points, cases = _decorators(node.decorator_list, constants, inherited)
    return (points or 0.0) * cases


def _decorators(decorators: list[ast.expr], constants: dict, inherited: float | None) -> tuple[float | None, int]:
    """The closest ``points`` among ``decorators`` (else ``inherited``) and the number of parametrized cases."""
    points, cases = None, 1
    for decorator in decorators:
        mark = _mark_name(decorator)
        if mark == "points":
            # Listed top to bottom: the last is the one nearest the function, which pytest takes.
            points = _number(decorator.args[0] if decorator.args else None, constants)
        elif mark == "parametrize":
            cases *= _case_count(decorator, constants)
        elif mark is None and not _harmless(decorator):
            raise Unresolved(f"decorator {ast.unparse(decorator)}")
    return (points if points is not None else inherited), cases


def _points_in_marks(value: ast.expr, constants: dict, current: float | None) -> float | None:
    marks = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    for mark in marks:
        if _mark_name(mark) == "points":
            current = _number(mark.args[0] if mark.args else None, constants)
    return current


def _mark_name(node: ast.expr) -> str | None:
    """'points' for ``pytest.mark.points(...)`` or ``mark.points(...)``; None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = func.value
        if (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
                isinstance(owner, ast.Name) and owner.id == "mark"):
            return func.attr
    return None


def _harmless(decorator: ast.expr) -> bool:
    """Marks other than points and parametrize (skipif, timeout, usefixtures...) change no count."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and (
        (isinstance(target.value, ast.Attribute) and target.value.attr == "mark")
        or (isinstance(target.value, ast.Name) and target.value.id == "mark"))


def _number(node: ast.expr | None, constants: dict) -> float:
    value = _literal(node, constants)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unresolved("points that are not a number")
    return float(value)


def _case_count(decorator: ast.Call, constants: dict) -> int:
    values = decorator.args[1] if len(decorator.args) > 1 else next(
        (k.value for k in decorator.keywords if k.arg == "argvalues"), None)
    if isinstance(values, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred)
                                                                      for e in values.elts):
        return len(values.elts)  # elements may be pytest.param(...) calls: each is one case
    value = _literal(values, constants)
    if isinstance(value, (list, tuple, set, frozenset, dict, str)):
        return len(value)
    raise Unresolved("a parametrize over a computed list")


def _literal(node: ast.expr | None, constants: dict):
    if node is None:
        raise Unresolved("no value")
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise Unresolved(ast.unparse(node)) from None


def _module_constants(tree: ast.Module) -> dict:
    """Module-level names bound once to a literal (``CASES = [...]``)."""
    constants: dict = {}
    rebound: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id in constants:
                rebound.add(target.id)
            try:
                constants[target.id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                rebound.add(target.id)
    return {k: v for k, v in constants.items() if k not in rebound}


# --- collecting with pytest (the fallback) ----------------------------------------

def collected_points(paths: list[Path]) -> float:
    """Points of ``paths`` as pytest collects them (imports the test modules, runs no test)."""
    return float(sum(collected_points_by_file(paths).values()))


def collected_points_by_file(paths: list[Path]) -> dict[Path, float]:
    """Each file's points as pytest collects them, in one pytest run."""
    paths = [Path(p).resolve() for p in paths]
    rootdir = Path(os.path.commonpath([str(p.parent) for p in paths]))
    with tempfile.TemporaryDirectory(prefix="hml-points-") as scratch:
        out = Path(scratch) / "points.json"
        argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "grader.course.points",
                "--hml-points-out", str(out), "-c", str(markers.PYTEST_INI), "--rootdir", str(rootdir),
                "-p", "no:cacheprovider", "--import-mode=importlib", *map(str, paths)]
        process = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                                 cwd=str(Path(__file__).resolve().parents[2]))
        if not out.is_file():
            tail = (process.stdout + process.stderr)[-1500:]
            raise RuntimeError(f"could not collect the tests of {', '.join(p.name for p in paths)}:\n{tail}")
        totals = {p: 0.0 for p in paths}
        for path, points in json.loads(out.read_text()):
            totals[Path(path).resolve()] = totals.get(Path(path).resolve(), 0.0) + points
        return totals


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--hml-points-out", help="write the collected tests' points (a JSON list) here")


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)


def pytest_collection_finish(session: pytest.Session) -> None:
    out = session.config.getoption("--hml-points-out")
    if not out:
        return
    points = []
    for item in session.items:
        marker = item.get_closest_marker("points")
        points.append([str(item.path), float(marker.args[0]) if marker is not None and marker.args else 0.0])
    Path(out).write_text(json.dumps(points))
