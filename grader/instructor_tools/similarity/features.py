"""Artifacts as weighted bags of name-free features, and how much two bags share beyond the boilerplate.

A feature is a string key (a digest or a name-free description) with a weight; a bag counts each
key as often as the artifact holds it. Before two bags are compared, the features of the course's
own artifacts (the reference solution's package, the course's fixture flatbuffers) are removed:
every learner begins from those, so holding them is no evidence.

What most of the class shares is *not* removed. A feature held by 3 of 5 submissions is what three
honest learners converged on, or what three copiers share: counting holders cannot tell the two
apart, and stripping it let a group of copiers hide by being many (3 identical copies in a class of
5 scored 0). So a shared feature is weighed instead (``by_rarity``): its weight is divided among
its holders (2/k for k holders, 1 for a pair), so a pair's score rests on what the two share with
few others. A group of copiers shares one bag, every feature scaled alike, and its score does not
move (a ratio of weights); an honest pair whose features are mostly what the class converges on,
beside features of their own, scores lower. Identical weight bytes are exempt (``exempt``): two
trainings never produce them, however many hold them; only the course's own conversions are an
honest source of identical weights.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

MAX_LABELS = 50  # shared features listed on a pair's page


@dataclass
class Bag:
    """One submission's artifact: feature key -> total weight, and a readable label per key."""

    weights: Counter = field(default_factory=Counter)
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, weight: float, label: str) -> None:
        self.weights[key] += weight
        self.labels.setdefault(key, label)

    def __add__(self, other: "Bag") -> "Bag":
        return Bag(self.weights + other.weights, {**other.labels, **self.labels})

    def without(self, keys: set[str]) -> "Bag":
        return Bag(Counter({k: w for k, w in self.weights.items() if k not in keys}),
                   {k: v for k, v in self.labels.items() if k not in keys})

    def scaled(self, factors: dict[str, float]) -> "Bag":
        return Bag(Counter({k: w * factors.get(k, 1.0) for k, w in self.weights.items()}), dict(self.labels))


@dataclass(frozen=True)
class FeatureMatch:
    """How much two artifacts share beyond the boilerplate: a score in [0, 1] and what they share."""

    score: float
    shared: tuple[str, ...] = ()  # labels of the shared distinctive features, heaviest first
    distinctive: tuple[int, int] = (0, 0)  # how many distinctive features each side has


def by_rarity(bags: list[Bag], exempt: Callable[[str], bool] = lambda key: False) -> list[Bag]:
    """Each bag with every feature held by k > 2 submissions weighed 2/k (see the module's notes); ``exempt``
    keys keep their weight."""
    holders = Counter(key for bag in bags for key in bag.weights)
    factors = {key: 2.0 / count for key, count in holders.items() if count > 2 and not exempt(key)}
    return [bag.scaled(factors) for bag in bags]


def compare(a: Bag, b: Bag, containment: bool = False, floor: float = 0.0) -> FeatureMatch:
    """How much of two bags (already stripped of boilerplate) is shared; 0 when either holds nothing of its own.

    Weighted Jaccard (shared weight over combined weight) by default. With ``containment``, shared weight over
    the smaller side's (at least ``floor``): padding one side with more of its own does not hide what it took.
    """
    if not a.weights or not b.weights:
        return FeatureMatch(0.0, (), (len(a.weights), len(b.weights)))
    keys = set(a.weights) | set(b.weights)
    if containment:
        whole = max(min(sum(a.weights.values()), sum(b.weights.values())), floor)
    else:
        whole = sum(max(a.weights[k], b.weights[k]) for k in keys)
    if whole <= 0:
        return FeatureMatch(0.0, (), (len(a.weights), len(b.weights)))
    overlap = {k: min(a.weights[k], b.weights[k]) for k in keys if a.weights[k] and b.weights[k]}
    shared = sorted(overlap, key=lambda k: (-overlap[k], a.labels.get(k, k)))
    return FeatureMatch(min(1.0, sum(overlap.values()) / whole), tuple(a.labels.get(k, k) for k in shared[:MAX_LABELS]),
                        (len(a.weights), len(b.weights)))
