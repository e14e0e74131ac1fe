"""How far into each public test's hints a learner has gone.

A failing public test shows its first hint; each ``hml check --hint TEST``
(``%hml hint TEST`` in a notebook) shows one more, until the last. The tiers
reached are kept beside the workspace marker, or in the user's cache outside
a workspace: a convenience of the learner's own, which grading never reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grader.course.hints import authored_hints
from grader.errors import GraderError

FILE = ".hml-hints.json"


class UnknownHintTest(GraderError):
    """The test named for a hint is not a public test with hints; the message lists those that are."""


@dataclass
class HintStep:
    test: str
    tier: int  # how many tiers are shown now
    tiers: tuple[str, ...]

    @property
    def shown(self) -> tuple[str, ...]:
        return self.tiers[:self.tier]

    @property
    def last(self) -> bool:
        return self.tier >= len(self.tiers)


class HintTiers:
    """The tiers reached in one exercise, read from and written to ``path``."""

    def __init__(self, path: Path, hints: dict[str, tuple[str, ...]]):
        self.path, self.hints = path, hints
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            self._reached = {str(k): int(v) for k, v in stored.items()} if isinstance(stored, dict) else {}
        except (OSError, ValueError, TypeError, OverflowError):
            self._reached = {}  # none yet, or a file the learner mangled: start again from the first tier

    @classmethod
    def of(cls, exercise, workspace_directory: Path | None) -> "HintTiers":
        if workspace_directory is not None:
            path = Path(workspace_directory) / FILE
        else:
            from grader.learner_tools.check import learner_cache

            path = learner_cache() / "hints" / f"{exercise.id}.json"
        return cls(path, authored_hints(exercise.public_tests))

    def step(self, test: str) -> HintStep | None:
        """What a failing ``test`` shows now: at least its first hint; None when its author gave none."""
        tiers = self.hints.get(test)
        if not tiers:
            return None
        return HintStep(test, min(max(self._reached.get(test, 1), 1), len(tiers)), tiers)

    def next(self, name: str) -> HintStep:
        """One more tier of the test ``name`` names (``test_x``, ``x``, or its number among the hinted tests)."""
        test = self.resolve(name)
        current = self.step(test)
        assert current is not None
        reached = min(current.tier + 1, len(current.tiers))
        self._reached[test] = reached
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self._reached, indent=1, sort_keys=True), encoding="utf-8")
        except OSError:
            pass  # a read-only folder: the hint is still shown, the next one just starts over
        return HintStep(test, reached, current.tiers)

    def resolve(self, name: str) -> str:
        names = list(self.hints)
        name = name.strip()
        if name.isdigit() and 1 <= int(name) <= len(names):
            return names[int(name) - 1]
        for candidate in (name, f"test_{name}"):
            if candidate in self.hints:
                return candidate
        listed = ", ".join(f"{i}. {n}" for i, n in enumerate(names, 1)) or "none"
        raise UnknownHintTest(f"no public test called {name!r} has hints; the tests with hints: {listed}")
