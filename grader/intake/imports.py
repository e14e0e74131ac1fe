"""Imports of modules the grading environment lacks, found in a learner's source before anything runs.

A module-level import of such a module (``import seaborn`` at the top of a
notebook) makes the whole module fail to import where it is graded, so every
test would fail with the same ``ModuleNotFoundError``. Found here with
``ast`` from the source, it is named before grading instead: ``hml check``
stops on it (``grader.grading.explain.preflight``) and graders refuse the
submission with the same words (``grader.intake.prepare``).

What counts as module-level: every import Python runs while importing the
module, in class bodies and top-level ``if``/``for``/``with``/``try`` blocks
too, except

- imports guarded by a ``try`` whose handlers catch ``ImportError`` (or
  ``ModuleNotFoundError``, ``Exception``, everything): the learner's code
  already works without the module;
- imports under ``if TYPE_CHECKING:`` or ``if __name__ == "__main__":``, which
  never run where the module is imported.

Only an import that runs whenever the module is imported (``certain``: at the
top level, in a class body or an unguarded ``try`` body) is refused: one in an
``if``, a ``with`` (``contextlib.suppress(ImportError)``) or a loop may never
run, or never fail, so it is only named, like one in a function body.

Imports inside function bodies run only when the function is called (a KFP
component's body runs alone, from its own source): they are reported
separately, as notes, never as a refusal.

What is available is ``grader.course.environment``'s answer, never this
machine's: a learner's own Python may well hold seaborn.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from grader.course import environment

_CATCHES_IMPORT_ERROR = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
MAX_NAMED = 5  # modules a message names; more are counted


@dataclass(frozen=True)
class UnavailableImport:
    module: str            # as the learner's code names it: `seaborn`, `sklearn.linear_model`
    line: int              # in the module the grader imports (for a notebook: its code cells, converted)
    function: str | None   # the function whose body holds it; None at module level
    conditional: bool = False  # in a block that may not run (an `if`, `with`, loop or handler)

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    @property
    def certain(self) -> bool:
        """It runs whenever the module is imported, so the import fails for sure: the one case refused."""
        return self.function is None and not self.conditional


def unavailable_imports(source: str, own_module: str | None = None) -> list[UnavailableImport]:
    """Imports in ``source`` of modules the grading environment lacks, in source order (empty if unparsable).

    ``own_module``: the module's own name, which is importable where it is graded.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Python's own error says more (see grader.grading.explain.syntax_problem); a tree too deep to build
        # here is the learner's to fail on where the module is imported, not the grader's.
        return []
    found: list[UnavailableImport] = []

    def check(node: ast.Import | ast.ImportFrom, function: str | None, conditional: bool) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                return  # relative: nothing beside the module is graded, but Python says so better
            modules = [node.module]
        else:
            modules = [alias.name for alias in node.names]
        for module in modules:
            if module.split(".")[0] == own_module or environment.is_available(module):
                continue
            found.append(UnavailableImport(module, node.lineno, function, conditional))

    def visit(body: list[ast.stmt], function: str | None, guarded: bool, conditional: bool = False) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if not guarded:
                    check(node, function, conditional)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # Only the body runs later: decorators and defaults run at import, and import nothing.
                visit(node.body, function or node.name, guarded=False)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, function, guarded, conditional)
            elif isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main_guard(node.test)):
                visit(node.orelse, function, guarded, True)  # the body never runs where the module is imported
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                catches = any(_catches_import_error(h) for h in node.handlers)
                visit(node.body, function, guarded or catches, conditional)
                for handler in node.handlers:
                    visit(handler.body, function, guarded, True)
                visit(node.orelse, function, guarded, True)
                visit(node.finalbody, function, guarded, conditional)
            else:
                # if, with (a context manager may suppress the error), for, while, match: may not run, or
                # may not fail where it runs: named, never refused.
                for child in ("body", "orelse", "finalbody"):
                    block = getattr(node, child, None)
                    if isinstance(block, list):
                        visit(block, function, guarded, True)
                for case in getattr(node, "cases", None) or []:  # match statements
                    visit(case.body, function, guarded, True)

    visit(tree.body, None, guarded=False)
    return sorted(found, key=lambda item: item.line)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    """``if __name__ == "__main__":``: the grader imports the module, so this block never runs there."""
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in _CATCHES_IMPORT_ERROR or
               isinstance(k, ast.Attribute) and k.attr in _CATCHES_IMPORT_ERROR for k in kinds)


# --- what the learner is told ----------------------------------------------------------------------------

def _named(found: list[UnavailableImport], locate: Callable[[int], str]) -> tuple[str, bool]:
    """"`seaborn` (cell 2, line 1) and `plotly` (cell 3, line 4)", and whether that is more than one module."""
    by_module: dict[str, list[int]] = {}
    for item in found:
        by_module.setdefault(item.module[:80], []).append(item.line)
    shown = [f"`{module}` ({locate(lines[0])})" for module, lines in list(by_module.items())[:MAX_NAMED]]
    if len(by_module) > MAX_NAMED:
        shown.append(f"{len(by_module) - MAX_NAMED} more")
    text = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return text, len(by_module) > 1


def available_text() -> str:
    """The sentence that lists what module-level code may import, from the one declaration."""
    return ("the standard library and " + ", ".join(environment.import_names()) +
            " (README, section 'Where your work is graded')")


def refusal(found: list[UnavailableImport], locate: Callable[[int], str]) -> tuple[str, str]:
    """(title, what to do) for module-level imports the grading environment lacks."""
    names, several = _named(found, locate)
    title = f"{names} {'are' if several else 'is'} not available where your work is graded"
    it = "them" if several else "it"
    detail = (f"Your module imports {it} at its top level, so it cannot even be imported there, and no test "
              f"could run. Remove the import (and the code that uses {it}), or move {it} to a cell or file "
              f"you do not submit; if your code works without {it}, guard the import with `try:` ... "
              f"`except ImportError:`. The libraries available: {available_text()}.")
    return title, detail


def note(found: list[UnavailableImport], locate: Callable[[int], str]) -> tuple[str, str]:
    """(title, detail) for imports that may not run (in function bodies, or blocks that may be skipped) of
    modules the grading environment lacks."""
    names, several = _named(found, locate)
    functions = sorted({f"`{item.function}`" for item in found if item.function})
    title = f"{names} {'are' if several else 'is'} not available where your work is graded"
    where = []
    if functions:
        where.append(f"inside {', '.join(functions)} (run when the function is called; a KFP component's body "
                     "runs alone, on `python:3.11`)")
    if any(item.function is None for item in found):
        where.append("in a block that may not run (an `if`, a `with`, a loop)")
    detail = (f"The import{'s' if several else ''} {' and '.join(where)} fail{'' if several else 's'} wherever "
              "it runs: a test that reaches it fails. Use the standard library instead, or make sure that "
              f"code does not run where your work is graded. The libraries available: {available_text()}.")
    return title, detail
