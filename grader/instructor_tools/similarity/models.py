"""A TFLite model as a bag of name-free features: its operators in order and the bytes of its weights.

The evaluator reads the flatbuffer (``grader.judging.evaluators.tflite.fingerprint``) and sends
back plain strings: each live operator with the dtypes and shapes it reads and writes, and a
SHA-256 of every constant it reads. Tensor and signature names never enter: renaming them is
what a copy changes. Identical weight bytes are the strong evidence (two trainings never produce
them); the operator sequence is weak alone (a given architecture makes the same one), so it
weighs less, and both are compared only after the course's own conversions and what most of the
class shares are taken out (``features.py``).
"""
from __future__ import annotations

from pathlib import Path

import grader
from grader.instructor_tools.similarity.features import Bag

WEIGHT_WEIGHT = 4.0  # one identical constant tensor
OPERATOR_WEIGHT = 1.0  # one operator, or two in a row, with its types and shapes


def course_models() -> list[bytes]:
    """The course's own conversions of the given models (``grader/fixtures/*.tflite``): boilerplate."""
    folder = Path(grader.__file__).parent / "fixtures"
    return [path.read_bytes() for path in sorted(folder.glob("*.tflite"))]


def features(fingerprint: dict) -> Bag:
    """The bag of one flatbuffer, from the evaluator's ``fingerprint`` answer (strings only)."""
    bag = Bag()
    ops = [str(op)[:400] for op in fingerprint.get("ops", [])]
    for index, op in enumerate(ops):
        bag.add(f"op|{op}", OPERATOR_WEIGHT, f"operator {op}")
        if index:
            bag.add(f"ops|{ops[index - 1]}|{op}", OPERATOR_WEIGHT, f"operator {ops[index - 1]} then {op}")
    for weight in fingerprint.get("weights", []):
        digest, dtype = str(weight.get("digest", ""))[:64], str(weight.get("dtype", "?"))[:200]
        bag.add(f"weights|{digest}", WEIGHT_WEIGHT, f"identical constant {dtype} (sha256 {digest[:12]}…)")
    return bag
