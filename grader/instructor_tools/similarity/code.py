"""Code similarity with copydetect: tokens, not text, so renaming and reformatting change nothing.

copydetect (MIT) tokenises with pygments (it runs nothing), replaces identifiers and strings by
placeholders, drops comments and layout, and winnows k-grams of what is left. The exercise's
starter (module and notebook) is boilerplate: every learner begins from it, so what they keep of
it is no evidence. A pair's score is the larger of the two shares of copied tokens, as copydetect
reports it: a copy padded with code of its own still shows as most of the original.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from grader.course.model import Exercise
from grader.intake.notebooks import NotebookError, notebook_to_module

# copydetect's own defaults: matches shorter than NOISE tokens are ignored, longer than GUARANTEE found.
NOISE = 25
GUARANTEE = 25
WINDOW = GUARANTEE - NOISE + 1


@dataclass(frozen=True)
class CodeMatch:
    score: float
    shares: tuple[float, float]  # share of each side's tokens found in the other
    texts: tuple[str, str]  # both modules, as compared
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
            hashes |= self._fingerprint(source, np.array([])).hashes
        self._boilerplate = np.array(sorted(hashes))

    @staticmethod
    def _fingerprint(source: str, boilerplate):
        from copydetect.detector import CodeFingerprint

        return CodeFingerprint("module.py", NOISE, WINDOW, boilerplate=boilerplate, language="python",
                               fp=io.StringIO(source))

    def fingerprint(self, source: str):
        return self._fingerprint(source, self._boilerplate)

    @staticmethod
    def compare(a, b) -> CodeMatch:
        from copydetect.detector import compare_files

        _, shares, slices = compare_files(a, b)
        spans = tuple(tuple((int(s), int(e)) for s, e in zip(*pair)) if len(pair) and len(pair[0]) else ()
                      for pair in slices)
        shares = (float(shares[0]), float(shares[1]))
        return CodeMatch(max(shares), shares, (a.raw_code, b.raw_code), spans)
