"""Grading results and the Gradescope ``results.json`` format."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.learner_text import clean
from grader.record.kinds import Kind, Outcome

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
NO_TEST_RAN = "the grader found or ran no test"  # why a grading with no error and no test is the grader's failure


@dataclass
class TestResult:
    __test__ = False  # a result, not a test class: pytest must not collect it where a test module imports it

    name: str
    nodeid: str
    score: float
    max_score: float
    status: str  # passed or failed
    visibility: str
    output: str = ""
    duration: float = 0.0
    kind: Kind | None = None  # how it ended (grader.record.kinds); by default what the status says

    def __post_init__(self) -> None:
        # Names, node ids and feedback can carry the learner's text: made safe once, here.
        self.name, self.nodeid = clean(self.name, 300), clean(self.nodeid, 500)
        self.output = clean(self.output)
        self.kind = Kind.of(self.kind, self.passed)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def public(self) -> bool:
        """Whether a learner may read this test's message and duration (and see it as a public test)."""
        return self.visibility == "visible"


@dataclass
class GradeResult:
    submission: str
    exercise: str
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    refused: str | None = None  # why the submission could not be graded, if it could not
    error: str | None = None  # a failure of the grader itself, recorded instead of crashing a batch
    sandboxed: bool = True
    sandbox: dict | None = None  # which sandbox and protections were in force (grader.sandbox.launch.protections)
    metrics: dict = field(default_factory=dict)  # numbers public tests published (the plugin's ``metric``)
    # How the grading ended (grader.record.kinds.Outcome): computed here, never passed in or derived elsewhere.
    outcome: Outcome = field(init=False, default=Outcome.GRADER_ERROR)

    def __post_init__(self) -> None:
        self.submission, self.exercise = clean(self.submission, 300), clean(self.exercise, 100)
        self.refused = None if self.refused is None else clean(self.refused, 2000)
        self.error = None if self.error is None else clean(self.error, 2000)
        self.outcome = Outcome.of(self.refused, self.error, len(self.tests))

    @property
    def grader_failure(self) -> str | None:
        """Why the grader failed (its error, or that no test ran); None unless the outcome is a grader error."""
        if self.outcome is not Outcome.GRADER_ERROR:
            return None
        return self.error or NO_TEST_RAN

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def published_time(self) -> float:
        """The seconds a learner may be shown: the visible tests' own. They run first, before any hidden
        input reaches the worker; the rest of the time is the learner's to tune (code can sleep by a
        hidden input), so it stays inside the grader."""
        return sum(t.duration for t in self.tests if t.public)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    def test(self, text: str) -> TestResult:
        """The one test whose name or node id contains ``text``."""
        found = [t for t in self.tests if text in t.name or text in t.nodeid]
        if len(found) != 1:
            raise LookupError(f"{len(found)} tests match {text!r}: {[t.name for t in found] or [t.name for t in self.tests]}")
        return found[0]

    def failed(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    def to_gradescope(self, private: bool = False) -> dict:
        """The Gradescope format. Public (the default) unless ``private``: durations are the visible tests'
        only, the total among them (``published_time``)."""
        notes = [m for m in (self.refused and f"Submission refused: {self.refused}",
                                   self.error or self.grader_failure) if m]
        return {
            "score": self.score,
            "execution_time": round(self.execution_time if private else self.published_time, 3),
            "output": "\n".join(notes),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [
                {"name": t.name, "score": t.score, "max_score": t.max_score, "status": t.status,
                 "visibility": t.visibility, "output": t.output,
                 "extra_data": {"nodeid": t.nodeid, "kind": t.kind.value,
                                "duration": round(t.duration, 3) if private or t.public else None}}
                for t in self.tests
            ],
            "extra_data": {"submission": self.submission, "exercise": self.exercise, "max_score": self.max_score,
                           "outcome": self.outcome.value, "refused": self.refused, "error": self.error,
                           "sandboxed": self.sandboxed,
                           "sandbox": self.sandbox, "metrics": self.metrics},
        }

    def write(self, path: Path, private: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.to_gradescope(private), indent=2))
        temporary.replace(path)  # a killed grader never leaves half a results file

    @classmethod
    def from_gradescope(cls, data: dict) -> "GradeResult":
        """Read back what ``to_gradescope`` wrote; the outcome is computed again (``extra_data.outcome``
        is for other readers)."""
        extra = data.get("extra_data", {})
        tests = [TestResult(t["name"], t.get("extra_data", {}).get("nodeid", t["name"]), t["score"], t["max_score"],
                            t["status"], t.get("visibility", "visible"), t.get("output", ""),
                            t.get("extra_data", {}).get("duration") or 0.0, t.get("extra_data", {}).get("kind"))
                 for t in data.get("tests", [])]
        return cls(extra.get("submission", ""), extra.get("exercise", ""), tests, data.get("execution_time", 0.0),
                   extra.get("refused"), extra.get("error"), extra.get("sandboxed", True), extra.get("sandbox"),
                   dict(extra.get("metrics") or {}))

    @classmethod
    def read(cls, path: Path) -> "GradeResult":
        return cls.from_gradescope(json.loads(path.read_text()))
