"""Artifacts as weighted bags of name-free features, and how much two bags share beyond the boilerplate.

A feature is a string key (a digest or a name-free description) with a weight; a bag counts each
key as often as the artifact holds it. Two bags are compared by weighted Jaccard (shared weight
over combined weight) after removing what is not evidence of copying: the features of the course's
own artifacts, and the features most of the class has (an honest class converges on them).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# A feature held by at least this share of an exercise's submissions (and by at least
# MIN_COMMON of them) is what the class converges on, not what one learner took from another.
COMMON_SHARE = 0.5
MIN_COMMON = 3
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


@dataclass(frozen=True)
class FeatureMatch:
    """How much two artifacts share beyond the boilerplate: a score in [0, 1] and what they share."""

    score: float
    shared: tuple[str, ...] = ()  # labels of the shared distinctive features, heaviest first
    distinctive: tuple[int, int] = (0, 0)  # how many distinctive features each side has


def common_keys(bags: list[Bag]) -> set[str]:
    """Keys that most of the class holds (see COMMON_SHARE): honest convergence, not copying."""
    holders = Counter(key for bag in bags for key in bag.weights)
    needed = max(MIN_COMMON, COMMON_SHARE * len(bags))
    return {key for key, count in holders.items() if count >= needed}


def compare(a: Bag, b: Bag) -> FeatureMatch:
    """Weighted Jaccard of two bags already stripped of boilerplate; 0 when either holds nothing of its own."""
    keys = set(a.weights) | set(b.weights)
    combined = sum(max(a.weights[k], b.weights[k]) for k in keys)
    if not a.weights or not b.weights or combined <= 0:
        return FeatureMatch(0.0, (), (len(a.weights), len(b.weights)))
    overlap = {k: min(a.weights[k], b.weights[k]) for k in keys if a.weights[k] and b.weights[k]}
    shared = sorted(overlap, key=lambda k: (-overlap[k], a.labels.get(k, k)))
    return FeatureMatch(sum(overlap.values()) / combined, tuple(a.labels.get(k, k) for k in shared[:MAX_LABELS]),
                        (len(a.weights), len(b.weights)))
