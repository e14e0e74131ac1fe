"""Code similarity with copydetect: tokens, not text, so renaming and reformatting change nothing.

copydetect (MIT) tokenises with pygments (it runs nothing), replaces identifiers and strings by
placeholders, drops comments and layout, and winnows k-grams of what is left. The exercise's
starter (module and notebook) is boilerplate: every learner begins from it, so what they keep of
it is no evidence. A pair's score is the larger of the two shares of copied tokens, as copydetect
reports it: a copy padded with code of its own still shows as most of the original.

Before fingerprinting, each module is normalised (``normalise``): parsed with ``ast`` (parsed, never
compiled or run), ``pass`` statements, docstrings and other bare constant statements dropped, and
unparsed back. Those statements do nothing, so they are free padding: a copy with a ``pass`` before
every statement and ``; pass`` after every simple line broke every k-gram and scored 0.22 against its
source. Source that does not parse (or is too deep or too large to) is compared as handed in. The
texts a match carries, and the pair pages show, are the normalised ones: the spans copydetect
reports are offsets into the text it compared, so showing that text keeps the marks exact.
"""
from __future__ import annotations

import ast
import io
import warnings
from dataclasses import dataclass

from grader.course.model import Exercise
from grader.intake.notebooks import NotebookError, notebook_to_module

# copydetect's own defaults: matches shorter than NOISE tokens are ignored, longer than GUARANTEE found.
NOISE = 25
GUARANTEE = 25
WINDOW = GUARANTEE - NOISE + 1
MAX_PARSE_CHARS = 200_000  # larger source is compared as it is, unparsed (intake bounds modules below this)


def _is_noise(statement: ast.stmt) -> bool:
    """A statement that does nothing: ``pass``, a docstring, any bare constant (``...``, ``1``)."""
    return isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr)
                                               and isinstance(statement.value, ast.Constant))


class _DropNoise(ast.NodeTransformer):
    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            statements = getattr(node, name, None)
            if isinstance(statements, list) and statements and all(isinstance(s, ast.stmt) for s in statements):
                kept = [s for s in statements if not _is_noise(s)]
                # A body that held only noise keeps one ``pass``, so the text stays Python (the same for every copy).
                setattr(node, name, kept or ([] if name != "body" or isinstance(node, ast.Module) else [ast.Pass()]))
        return node


def normalise(source: str) -> str | None:
    """``source`` without statements that do nothing, as ``ast.unparse`` writes it; None where it cannot be
    parsed (a syntax error, too deep, too large), and the raw text is compared instead."""
    if len(source) > MAX_PARSE_CHARS or "\x00" in source:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning and the like: learner text is not ours to print
            tree = _DropNoise().visit(ast.parse(source, "<submission>", "exec"))
            return ast.unparse(tree) + "\n"
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError, TypeError):
        return None


def compared_text(source: str) -> str:
    """What the code signal compares of ``source``: its normalised form, or the text itself where that fails."""
    normalised = normalise(source)
    return source if normalised is None else normalised


@dataclass(frozen=True)
class CodeMatch:
    score: float
    shares: tuple[float, float]  # share of each side's tokens found in the other
    texts: tuple[str, str]  # both modules as compared (normalised; see ``normalise``)
    copied: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]  # (start, end) spans in each text


def starter_sources(exercise: Exercise) -> list[str]:
    """The starter as a module and as a notebook converted the way a learner's notebook is."""
    found = []
    if exercise.starter.is_file():
        found.append(exercise.starter.read_text(encoding="utf-8"))
    if exercise.starter_notebook.is_file():
        try:
            found.append(notebook_to_module(exercise.starter_notebook.read_text(encoding="utf-8")).source)
        except NotebookError:
            pass
    return found


class CodeComparer:
    """Fingerprints modules of one exercise against its boilerplate, and compares them in pairs."""

    def __init__(self, boilerplate_sources: list[str]):
        import numpy as np

        hashes: set = set()
        for source in boilerplate_sources:
            hashes |= self._fingerprint(compared_text(source), np.array([])).hashes
        self._boilerplate = np.array(sorted(hashes))

    @staticmethod
    def _fingerprint(source: str, boilerplate):
        from copydetect.detector import CodeFingerprint

        return CodeFingerprint("module.py", NOISE, WINDOW, boilerplate=boilerplate, language="python",
                               fp=io.StringIO(source))

    def fingerprint(self, source: str):
        return self._fingerprint(compared_text(source), self._boilerplate)

    @staticmethod
    def compare(a, b) -> CodeMatch:
        from copydetect.detector import compare_files

        _, shares, slices = compare_files(a, b)
        spans = tuple(tuple((int(s), int(e)) for s, e in zip(*pair)) if len(pair) and len(pair[0]) else ()
                      for pair in slices)
        shares = (float(shares[0]), float(shares[1]))
        return CodeMatch(max(shares), shares, (a.raw_code, b.raw_code), spans)
