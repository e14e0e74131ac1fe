"""Pairs of submissions, their scores by signal, and the ranking: highest first, one list for the class."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from grader.instructor_tools.similarity.code import CodeMatch
from grader.instructor_tools.similarity.features import FeatureMatch


class Signal(Enum):
    CODE = "code"
    PIPELINE = "pipeline"
    MODEL = "model"


@dataclass
class Pair:
    exercise: str
    learners: tuple[str, str]  # learner-made folder names, in sorted order
    code: CodeMatch | None = None
    pipeline: FeatureMatch | None = None
    model: FeatureMatch | None = None
    page: str | None = None  # the pair's page in the output folder, when it is above the threshold
    notes: list[str] = field(default_factory=list)

    def scores(self) -> dict[Signal, float | None]:
        return {Signal.CODE: self.code.score if self.code else None,
                Signal.PIPELINE: self.pipeline.score if self.pipeline else None,
                Signal.MODEL: self.model.score if self.model else None}

    @property
    def score(self) -> float:
        """The strongest signal: one artifact copied is evidence enough, whatever the others say."""
        return max((s for s in self.scores().values() if s is not None), default=0.0)

    def as_json(self) -> dict:
        return {"learners": list(self.learners), "exercise": self.exercise, "score": round(self.score, 4),
                **{signal.value: None if value is None else round(value, 4) for signal, value in self.scores().items()},
                "page": self.page}


def ranked(pairs: list[Pair]) -> list[Pair]:
    """Highest score first; ties by exercise and names, so the same class always reads the same."""
    return sorted(pairs, key=lambda p: (-p.score, p.exercise, p.learners))
