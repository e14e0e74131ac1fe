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


def lost(result, name: str, *phrases: str) -> None:
    """The result's test called ``name`` lost its points and says each of ``phrases``."""
    assert_lost(result.test(name), *phrases)


def kept(result, name: str) -> None:
    assert_kept(result.test(name))


def hidden_failures(result) -> set[str]:
    """The function names of the hidden tests a submission failed."""
    return {t.nodeid.split("::")[1] for t in result.failed() if t.visibility == "hidden"}


def hidden_test(result, name: str):
    return result.test(f"hidden::{name}::")


def public_test(result, name: str):
    return result.test(f"test_public.py::{name}")


def assert_full_marks(result, hidden_tests: int | None = None) -> None:
    """Graded without refusal or grader error, every point earned (and as many hidden tests as expected)."""
    assert result.refused is None and result.error is None, result.error or result.refused
    assert result.max_score > 0 and result.score == result.max_score, [(t.name, t.output) for t in result.failed()]
    if hidden_tests is not None:
        assert len([t for t in result.tests if t.visibility == "hidden"]) == hidden_tests


def accepted_connections(listener) -> int:
    """How many connections reached ``listener`` (queued by the kernel, never accepted by the test); closes it."""
    listener.setblocking(False)
    connections = 0
    while True:
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            break
        connections += 1
    listener.close()
    return connections
