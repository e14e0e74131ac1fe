"""The errors a beginner meets, found before the tests run or recognised after, in the course's terms.

Two kinds of help for ``hml check``:

- ``preflight``: what can be told from the learner's file without running
  it: Python cannot parse it (with the notebook cell and line), it imports a
  module the grading environment lacks (``grader.intake.imports``), or a
  function the exercise's contract names is not defined.
- ``explain``: recognises well-known failures in a test's message and says
  what they mean and what to do: a starter TODO still in place, a KFP
  component called with positional arguments, a library (TensorFlow) missing
  from the learner's Python, a function whose signature differs from the
  contract, a component that uses a name from outside its own body.

Nothing here runs learner code: files are read with ``ast`` only.
"""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import environment
from grader.intake.imports import available_text, note, refusal, unavailable_imports
from grader.intake.notebooks import ConvertedNotebook, notebook_to_module

# The grading environment's libraries (grader/course/environment.py), by top-level import name: their pip
# names and their names in a sentence.
PACKAGES = {top: library.requirement for top, library in environment.by_top_name().items()}
LIBRARY_NAMES = {top: library.name for top, library in environment.by_top_name().items()}


@dataclass
class Source:
    """A learner's file as the grader will see it: module text, and where its lines came from."""

    path: Path
    text: str
    cells: list[tuple[int, int]] = field(default_factory=list)  # notebooks: (module line, cell number)

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix == ".ipynb"

    def locate(self, line: int) -> str:
        """'line 12' for a module; 'cell 4, line 3' for a notebook."""
        return ConvertedNotebook(self.text, self.cells).locate(line) if self.cells else f"line {line}"

    def cell_line(self, line: int) -> str:
        return self.text.splitlines()[line - 1] if 0 < line <= len(self.text.splitlines()) else ""


def read_source(path: Path) -> Source:
    """The module a submission file becomes (a notebook's code cells in order); raises NotebookError."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        converted = notebook_to_module(text)
        return Source(path, converted.source, converted.cells)
    return Source(path, text)


@dataclass
class Problem:
    """Something found before running: ``fatal`` problems mean no test can run."""

    title: str
    detail: str = ""
    fatal: bool = False
    short: str = ""  # a fatal problem in a few words, for the workspace's record of the last check


def preflight(source: Source, functions: list[str]) -> list[Problem]:
    try:
        # A name that is no file: for a real file name, CPython re-reads the error's line from that file
        # in the current folder (a notebook's JSON, say) and counts the caret's column in that line.
        tree = ast.parse(source.text, filename=f"<{source.path.name}>")
    except SyntaxError as exc:
        return [syntax_problem(exc, source)]
    except (ValueError, RecursionError, MemoryError):
        return []  # a tree too deep to build here: the worker's import says what is wrong
    problems = import_problems(source)
    names = top_level_names(tree)
    if names is None:  # `from x import *`: what it defines cannot be read from the file
        return problems
    missing = [f for f in functions if f not in names]
    if not missing:
        return problems
    where = "a code cell of your notebook" if source.is_notebook else "your module"
    listed = ", ".join(f"`{f}`" for f in missing)
    return problems + [Problem(
        f"{listed} {'is' if len(missing) == 1 else 'are'} not defined",
        f"The exercise's contract (README) names {', '.join(f'`{f}`' for f in functions)}. Define "
        f"{'it' if len(missing) == 1 else 'each'} at the top level of {where}, with exactly that name and "
        "signature: the tests call the functions by name, so the tests that use a missing one fail.")]


def import_problems(source: Source) -> list[Problem]:
    """Imports of modules the grading environment lacks: fatal when they run whenever the module is imported
    (graders refuse such a submission with the same words, grader/intake/prepare.py), a note otherwise."""
    found = unavailable_imports(source.text, source.path.stem)
    problems = []
    certain = [i for i in found if i.certain]
    if certain:
        problems.append(Problem(*refusal(certain, source.locate), fatal=True, short="unavailable import"))
    maybe = [i for i in found if not i.certain]
    if maybe:
        problems.append(Problem(*note(maybe, source.locate)))
    return problems


def syntax_problem(exc: SyntaxError, source: Source) -> Problem:
    line = exc.lineno or 0
    where = source.locate(line) if line else "an unknown line"
    text = source.cell_line(line) if line else ""
    pointer = ""
    if text and exc.offset:
        pointer = "\n    " + text.rstrip() + "\n    " + " " * max(exc.offset - 1, 0) + "^"
    kind = type(exc).__name__
    return Problem(
        f"Python cannot read {source.path.name}: {kind} at {where}: {exc.msg}",
        f"Nothing in the file can run until this is fixed, so no test was run.{pointer}",
        fatal=True, short="syntax error")


def top_level_names(tree: ast.Module) -> set[str] | None:
    """Names the module binds at its top level (also inside top-level if/try/with blocks)."""
    names: set[str] = set()

    def bind(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                bind(element)
        elif isinstance(target, ast.Starred):
            bind(target.value)

    def visit(body: list[ast.stmt]) -> bool:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    bind(target)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*":
                        return False
                    names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                bind(node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        bind(item.optional_vars)
            for child in ("body", "orelse", "finalbody"):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                        isinstance(getattr(node, child, None), list) and not visit(getattr(node, child)):
                    return False
            for handler in getattr(node, "handlers", []) or []:
                if handler.name:
                    names.add(handler.name)
                if not visit(handler.body):
                    return False
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
        return True

    return names if visit(tree.body) else None


# --- explaining failures ------------------------------------------------------------

@dataclass(frozen=True)
class Hint:
    key: str  # one hint per key is shown per check
    text: str  # plain text (may hold `code` spans), never rich markup


_PRELOAD_MISSING = re.compile(r"could not import its libraries: (?:ModuleNotFoundError|ImportError): "
                              r"No module named '([\w.]+)'")
_IMPORT_MISSING = re.compile(r"your module could not be imported.*?ModuleNotFoundError: No module named '([\w.]+)'",
                             re.S)
_ANY_MISSING = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
_POSITIONAL = re.compile(r"Components must be instantiated using keyword arguments")
_POSITIONAL_NAME = re.compile(r"such parameters? for component \"([^\"]+)\"")
_TODO = re.compile(r"(?:`(\w+)` raised |(\w+) raised )?NotImplementedError: ?([^\n]*)")
_README_SECTION = re.compile(r"README, section ['\"]([^'\"]+)['\"]")
_UNDEFINED = re.compile(r"your module does not define '(\w+)'")
_SIGNATURE = re.compile(r"TypeError: ([\w.]+\(\) (?:missing \d+ required (?:positional|keyword-only) arguments?|"
                        r"got an unexpected keyword argument|takes \d+ positional arguments? but \d+ (?:was|were) "
                        r"given|got multiple values for argument)[^\n]*)")
_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
# Names a component's annotations take from typing (KFP's generated module has them by `from typing import *`).
_TYPING_NAMES = frozenset({"typing", "List", "Dict", "NamedTuple", "Optional", "Tuple", "Any", "Union"})
# kfp 2.17: ParallelFor(items, name=None, parallelism=None); a limit passed second becomes the loop's name,
# and building the pipeline (at @dsl.pipeline, while the module is imported) fails with this bare TypeError.
_LOOP_NAME = re.compile(r"TypeError: bad argument type for built-in operation")
_SYNTAX = re.compile(r"your module could not be imported \(([^)]*)\): (SyntaxError|IndentationError|TabError)")


def explain(message: str, exercise) -> list[Hint]:
    """Hints for the well-known failures ``message`` shows; empty when it shows none."""
    hints: list[Hint] = []
    functions = list(getattr(exercise, "functions", []) or [])
    uses_kfp = any(p.split(".")[0] == "kfp" for p in getattr(exercise, "preload", []) or [])

    match = _PRELOAD_MISSING.search(message)
    if match:
        hints.append(missing_library(match.group(1), before_your_code=True))
    match = _ANY_MISSING.search(message)
    if match and not _PRELOAD_MISSING.search(message) and not _IMPORT_MISSING.search(message) and \
            match.group(1).split(".")[0] in PACKAGES:
        hints.append(missing_library(match.group(1), before_your_code=False))
    match = _IMPORT_MISSING.search(message)
    if match and not _PRELOAD_MISSING.search(message):
        top = match.group(1).split(".")[0]
        if top in PACKAGES:
            hints.append(missing_library(match.group(1), before_your_code=False))
        else:
            hints.append(Hint(f"import:{top}", (
                f"Your code imports `{match.group(1)}`, which is not installed where your code runs. Where your "
                f"work is graded, code may import {available_text()}: remove that import, or write the code "
                "without it. Check the spelling, too.")))

    if _POSITIONAL.search(message):
        name = _POSITIONAL_NAME.search(message)
        component = name.group(1) if name else "concat"
        hints.append(Hint("kfp:positional", (
            f"KFP v2 components are called with keyword arguments only: write `{component}(a=..., b=...)`, "
            f"each argument named after the component's parameter, never `{component}(x, y)`. The SDK checks "
            "every component call when the pipeline function is decorated with @dsl.pipeline (while your "
            "module is imported), so until this is fixed no test can import your code (README, section "
            "'Components').")))

    if uses_kfp and _LOOP_NAME.search(message):
        hints.append(Hint("kfp:parallelfor", (
            "This TypeError at the @dsl.pipeline line is what kfp raises for a loop written "
            "`dsl.ParallelFor(items, 2)`: the second positional parameter of `dsl.ParallelFor` is the loop's "
            "`name` (a string), not its limit. Pass the limit by keyword: "
            "`dsl.ParallelFor(items, parallelism=2)` (README, section 'The contract').")))

    match = _SYNTAX.search(message)
    if match:
        hints.append(Hint("syntax", (
            f"Python cannot read your code ({match.group(1)}): fix the {match.group(2)} there first; until "
            "then no test can run.")))

    for match in _TODO.finditer(message):
        function = match.group(1) or match.group(2)
        section = _README_SECTION.search(match.group(3) or "")
        where = f" (README, section '{section.group(1)}')" if section else " (see the README)"
        subject = f"`{function}`" if function else "Your code"
        hints.append(Hint(f"todo:{section.group(1) if section else function or ''}", (
            f"{subject} still raises the starter's NotImplementedError: that part is still a TODO{where}. "
            "Replace the `raise NotImplementedError(...)` line with your code.")))
        break  # one TODO hint per message: the first one named is where to start

    match = _UNDEFINED.search(message)
    if match:
        name = match.group(1)
        known = f" The contract names: {', '.join(functions)}." if functions else ""
        hints.append(Hint(f"undefined:{name}", (
            f"The tests call `{name}`, but your file does not define it. Define it at the top level, spelled "
            f"exactly as in the README.{known}")))

    match = _SIGNATURE.search(message)
    if match:
        hints.append(Hint(f"signature:{match.group(1).split('(')[0]}", (
            f"A call did not fit your function's parameters ({match.group(1)}). The tests call the functions "
            "exactly as the contract in the README writes them: keep the parameter names, their order and "
            "their defaults.")))

    match = _NAME_ERROR.search(message)
    if match and uses_kfp and "annotations use" not in message and match.group(1) in _TYPING_NAMES:
        # Annotations are evaluated where the function is defined, before its body: an import there cannot help.
        hints.append(Hint(f"kfp:annotation:{match.group(1)}", (
            f"`{match.group(1)}` is not defined where an annotation needs it. A component's annotations are "
            "evaluated where its function is defined (in your module, and in the module KFP writes around the "
            "component's source when the step runs), before its body runs, so an import inside the body does "
            "not help them. Write `from typing import List` (or `NamedTuple`) at the top of your module and use "
            "the bare name: `List[float]`, not `typing.List[float]`; KFP's module imports typing's names the "
            "same way (see the README).")))
    elif match and uses_kfp and "inside the component" not in message:  # unless the test's author said it
        hints.append(Hint(f"kfp:selfcontained:{match.group(1)}", (
            f"`{match.group(1)}` is not defined where the code ran. If a KFP component uses it: a component's "
            "function runs alone, from its own source, in its own process, so names imported or defined at the "
            "top of your module are missing there. Put every import and helper the component uses inside its "
            "function body.")))
    return hints


def missing_library(module: str, before_your_code: bool) -> Hint:
    top = module.split(".")[0]
    package = PACKAGES.get(top, top)
    library = LIBRARY_NAMES.get(top, f"`{top}`")
    if top in ("tensorflow", "keras"):
        install = (f"`{sys.executable} -m pip install 'tensorflow-cpu>=2.16,<3'` (on Linux x86-64; elsewhere "
                   f"`{sys.executable} -m pip install 'tensorflow>=2.16,<3'`)")
    else:
        install = f"`{sys.executable} -m pip install {package}`"
    when = ("The grader imports it before your code, so no test could run. " if before_your_code else "")
    declared = environment.by_top_name().get(top)
    # An exploration library is the learner's choice, which the grader supports, not the exercise's need.
    needs = (f"Your code imports {library}: the grader has it, but" if declared and
             declared.role == environment.EXPLORING else f"This exercise needs {library}, and")
    return Hint(f"library:{top}", (
        f"{needs} the Python that runs hml ({sys.executable}) cannot import "
        f"`{module}`. {when}Install it into that same environment: {install}, or reinstall the course "
        "with `pip install -e .` in the course folder. Then run `hml check` again."))


# --- learner tracebacks ---------------------------------------------------------------

_FRAME = re.compile(r'File "(?P<path>[^"]*)", line (?P<line>\d{1,9})\b')


def rewrite_frames(text: str, source: Source, module_file: str) -> str:
    """Show the learner's frames with their own file name; for notebooks, with the cell and its line.

    The worker reports frames of the module file inside the sandbox
    (``/submission/placement.py``); the learner knows ``placement.py`` or
    ``placement.ipynb``, cell 4.
    """
    def replace(match: re.Match) -> str:
        if Path(match.group("path")).name != module_file:
            return match.group(0)
        line = int(match.group("line"))
        if source.cells:
            return f'File "{source.path.name}", {source.locate(line)}'
        return f'File "{source.path.name}", line {line}'

    return _drop_noisy_carets(_FRAME.sub(replace, text))


def _drop_noisy_carets(text: str) -> str:
    """Python 3.11+ underlines the failing expression; under a whole line it only adds noise."""
    lines = text.splitlines()
    kept = []
    for index, line in enumerate(lines):
        marks = line.strip()
        if marks and set(marks) <= set("^~") and index > 0:
            code = lines[index - 1].strip()
            if code and len(marks) >= 0.8 * len(code):
                continue
        kept.append(line)
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")
