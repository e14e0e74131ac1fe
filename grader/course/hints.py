"""The hints the authors of public tests give, in tiers, and which test a result belongs to.

A public test declares them with a marker of plain string literals, first the
nudge, last the nearly-the-answer::

    @pytest.mark.hints("Which rule decides this case?", "Rule 3 divides by four.", ...)
    def test_readme_example(learner): ...

They are read from the public test files as text (``ast``), never by importing
them, and never from hidden tests: nothing a learner's code says or a hidden
test holds can become a hint.
"""
from __future__ import annotations

import ast
from pathlib import Path


class HintsNotLiteral(ValueError):
    """A hints marker whose arguments are not plain strings (``hml validate`` reports it)."""


def authored_hints(test_files: list[Path]) -> dict[str, tuple[str, ...]]:
    """Test function name -> its hints, tier by tier, for every test in ``test_files`` that has some."""
    found: dict[str, tuple[str, ...]] = {}
    for path in test_files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                tiers = _tiers(node, path)
                if tiers:
                    found[node.name] = tiers
    return found


def function_of(nodeid: str) -> str:
    """The test function a result's node id names: ``test_public.py::test_x[case-2]`` -> ``test_x``."""
    return nodeid.rsplit("::", 1)[-1].split("[", 1)[0]


def _tiers(function: ast.FunctionDef, path: Path) -> tuple[str, ...]:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) in ("pytest.mark.hints", "mark.hints"):
            texts = []
            for argument in decorator.args:
                if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                    raise HintsNotLiteral(f"{path.name}: the hints of {function.name} must be plain strings")
                texts.append(" ".join(argument.value.split()))
            return tuple(t for t in texts if t)
    return ()
