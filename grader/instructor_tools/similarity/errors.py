"""What stops `hml similarity` as a whole, as one-line errors (one submission's trouble is a note instead)."""
from __future__ import annotations

from grader.errors import GraderError


class SimilarityError(GraderError):
    """The similarity report cannot be made as asked; the message says why."""


class NothingToCompare(SimilarityError):
    """No exercise of the class has two submissions to compare."""
