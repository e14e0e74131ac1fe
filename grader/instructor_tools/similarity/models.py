"""A TFLite model as a bag of name-free features: its operators in order and the bytes of its weights.

The evaluator reads the flatbuffer (``grader.judging.evaluators.tflite.fingerprint``) and sends
back plain strings: each live operator with the dtypes and shapes it reads and writes, and a
SHA-256 of every constant it reads. Tensor and signature names never enter: renaming them is
what a copy changes. Identical weight bytes are the strong evidence (two trainings never produce
them); the operator sequence is weak alone (a given architecture makes the same one), so it
weighs less, and both are compared only after the course's own conversions are taken out
(``features.py``: identical weights are never discounted for being common).

A submission's files are one bag, and two bags are compared by containment (shared weight over
the smaller bag's, ``containment=True``): files cost nothing to add, so junk models beside a copied
one must not dilute it (7 junk files took a weighted Jaccard from 1.0 to 0.125). The denominator is
at least one constant's weight (``FLOOR``), so a bag of a few operators alone cannot score 1.0.
"""
from __future__ import annotations

from pathlib import Path

import grader
from grader.instructor_tools.similarity.features import Bag

WEIGHT_WEIGHT = 4.0  # one identical constant tensor
OPERATOR_WEIGHT = 1.0  # one operator, or two in a row, with its types and shapes
FLOOR = WEIGHT_WEIGHT  # the least a containment score is divided by
# The evaluator's answer is read as untrusted data (it parsed a learner's file): these bound it again here.
MAX_OPS = 2_000
MAX_WEIGHTS = 2_000
WEIGHT_PREFIX = "weights|"


def is_weight(key: str) -> bool:
    """A feature that is an identical constant: never weighed down for being common (``features.by_rarity``)."""
    return key.startswith(WEIGHT_PREFIX)


def course_models() -> list[bytes]:
    """The course's own conversions of the given models (``grader/fixtures/*.tflite``): boilerplate."""
    folder = Path(grader.__file__).parent / "fixtures"
    return [path.read_bytes() for path in sorted(folder.glob("*.tflite"))]


def features(fingerprint: dict) -> Bag:
    """The bag of one flatbuffer, from the evaluator's ``fingerprint`` answer (strings only)."""
    bag = Bag()
    raw_ops, raw_weights = fingerprint.get("ops"), fingerprint.get("weights")
    ops = [str(op)[:400] for op in (raw_ops if isinstance(raw_ops, list) else [])[:MAX_OPS]]
    for index, op in enumerate(ops):
        bag.add(f"op|{op}", OPERATOR_WEIGHT, f"operator {op}")
        if index:
            bag.add(f"ops|{ops[index - 1]}|{op}", OPERATOR_WEIGHT, f"operator {ops[index - 1]} then {op}")
    for weight in (raw_weights if isinstance(raw_weights, list) else [])[:MAX_WEIGHTS]:
        if not isinstance(weight, dict):
            continue
        digest, dtype = str(weight.get("digest", ""))[:64], str(weight.get("dtype", "?"))[:200]
        bag.add(f"{WEIGHT_PREFIX}{digest}", WEIGHT_WEIGHT, f"identical constant {dtype} (sha256 {digest[:12]}…)")
    return bag
