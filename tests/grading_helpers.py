"""Assertions shared by the exercise tests: mistakes made by editing the reference, and what they cost."""
from __future__ import annotations


def mutate(source: str, *edits: tuple[str, str]) -> str:
    """Apply (old, new) edits to a reference solution; each old text must occur exactly once."""
    for old, new in edits:
        assert source.count(old) == 1, f"the reference no longer contains {old!r} exactly once"
        source = source.replace(old, new)
    return source


def assert_lost(test, *phrases: str) -> None:
    """The test lost all its points, and its message says each of ``phrases``."""
    assert test.score == 0 and test.status == "failed", f"{test.name!r} should lose its points: {test}"
    for phrase in phrases:
        assert phrase in test.output, f"{test.name!r} should say {phrase!r}; it said {test.output!r}"


def assert_kept(test) -> None:
    assert test.score == test.max_score, f"{test.name!r} should keep its points: {test}"
