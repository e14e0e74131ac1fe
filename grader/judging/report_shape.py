"""Checking the shape of a report a sandboxed process sent back, before any field of it is read.

A report (a KFP run's, a Vertex AI job's) crosses the wire as plain data; its reader decodes it
once into dataclasses. A field of the wrong shape is named in the grader's own words, never
quoted: its value may have been shaped by learner code.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

EMPTY: Mapping = MappingProxyType({})


def empty() -> Mapping:
    """A read-only empty mapping, the default of a report's mapping fields."""
    return EMPTY


class MalformedReport(ValueError):
    """A report does not have the shape its reader expects."""


@dataclass(frozen=True)
class Shape:
    """The checks one kind of report is read with: ``error`` is raised, its message opening with ``what``."""

    error: type[MalformedReport]
    what: str  # e.g. "the pipeline runner sent a malformed run report"

    def fail(self, where: str, problem: str) -> MalformedReport:
        return self.error(f"{self.what}: {where} {problem}")

    def mapping(self, value: Any, where: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(where, "is not a mapping with text keys")
        return value

    def text_or_none(self, value: Any, where: str) -> str | None:
        if value is not None and not isinstance(value, str):
            raise self.fail(where, "is not text")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "is not true or false")
        return value

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "is not a list of text")
        return tuple(value)
