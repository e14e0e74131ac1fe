"""How a course's tests declare what they are worth, who sees them and how they help: the ``points``,
``visibility`` and ``hints`` markers, and the pytest settings every run over course tests uses (grading and
point counting alike).

The one place the markers are registered: the grading plugin and the point counter both call ``register``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pytest is needed only when a pytest run registers the markers
    import pytest

# The course's own test configuration must not apply to a grading: every run over course tests uses this file.
PYTEST_INI = Path(__file__).with_name("pytest.ini")

MARKERS = {
    "points": "points(n): the points a test is worth",
    "visibility": "visibility(v): visible, hidden, after_due_date or after_published",
    "hints": "hints(first, ...): a public test's hints, one tier each (grader/course/hints.py)",
}


def register(config: "pytest.Config") -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
