"""Is every exercise fit to hand out and to grade? What ``hml validate`` checks, as functions.

For each exercise: the statement, starter module, starter notebook (up to
date with the module), public tests, hidden tests and reference solution are
present; the reference earns full marks on public and hidden tests; the
starter, as a module and as a notebook, earns less and fails at least one
hidden test; every test carries points and a valid visibility, and no hidden
test is marked visible. Gradings run in parallel and share a batch cache.
"""
from __future__ import annotations

import ast
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course.hints import HintsNotLiteral, authored_hints
from grader.errors import GraderError

if TYPE_CHECKING:  # pragma: no cover
    from grader.sandbox.launch import Sandbox


class NothingToValidate(GraderError):
    """The course has no exercises."""


KINDS = ("reference", "starter", "notebook")


@dataclass
class Verdict:
    exercise: str
    static: list[str] = field(default_factory=list)  # files and metadata
    grading: list[str] = field(default_factory=list)  # what the gradings showed
    warnings: list[str] = field(default_factory=list)
    results: dict = field(default_factory=dict)  # kind -> GradeResult
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        return self.static + self.grading

    @property
    def ok(self) -> bool:
        return not self.problems


def _defined_names(path: Path) -> set[str] | None:
    try:
        tree = ast.parse(path.read_text())
    except (SyntaxError, UnicodeDecodeError, OSError):
        return None
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _tests_without_docstring(paths: list[Path]) -> list[str]:
    missing = []
    for path in paths:
        try:
            tree = ast.parse(path.read_text())
        except (SyntaxError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not ast.get_docstring(node):
                missing.append(f"{path.name}::{node.name}")
    return missing


def _test_names(paths: list[Path]) -> list[str]:
    names = []
    for path in paths:
        tree = ast.parse(path.read_text())
        names += [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
    return names


def static_checks(exercise, verdict: Verdict) -> None:
    """What can be checked without grading anything."""
    import nbformat

    from grader.intake.notebooks import module_to_notebook

    if not exercise.statement.is_file() or not exercise.statement.read_text().strip():
        verdict.static.append("the statement (README.md) is missing or empty")
    if not exercise.starter.is_file():
        verdict.static.append(f"the starter module {exercise.file} is missing")
    if not exercise.starter_notebook.is_file():
        verdict.static.append(f"the starter notebook {exercise.starter_notebook.name} is missing (run `hml notebooks`)")
    elif exercise.starter.is_file():
        expected = nbformat.writes(module_to_notebook(exercise.starter.read_text())) + "\n"
        if exercise.starter_notebook.read_text() != expected:
            verdict.static.append(f"the starter notebook {exercise.starter_notebook.name} is out of date with "
                                    f"{exercise.file} (run `hml notebooks`)")
    if not exercise.public_tests:
        verdict.static.append("there are no public tests (exercises/<id>/test_*.py)")
    if not exercise.hidden_tests:
        verdict.static.append("there are no hidden tests (solutions/<id>/test_*.py)")
    if not exercise.reference.is_file():
        verdict.static.append(f"the reference solution solutions/{exercise.id}/{exercise.file} is missing")
    for label, path in (("starter", exercise.starter), ("reference", exercise.reference)):
        if not path.is_file():
            continue
        names = _defined_names(path)
        if names is None:
            verdict.static.append(f"the {label} module does not parse")
            continue
        missing = [f for f in exercise.functions if f not in names]
        if missing:
            verdict.static.append(f"the {label} module does not define {', '.join(missing)} (exercise.toml functions)")
    try:
        hinted = authored_hints(exercise.public_tests)
    except (HintsNotLiteral, SyntaxError) as exc:
        verdict.static.append(f"the public tests' hints cannot be read: {exc}")
    else:
        unhinted = [name for name in _test_names(exercise.public_tests) if name not in hinted]
        if unhinted:
            verdict.warnings.append(f"public tests without hints: {', '.join(unhinted[:5])}"
                                    f"{' …' if len(unhinted) > 5 else ''}")
    undocumented = _tests_without_docstring(exercise.public_tests + exercise.hidden_tests)
    if undocumented:
        verdict.warnings.append(f"tests without a docstring (their report name is the function name): "
                                f"{', '.join(undocumented[:5])}{' …' if len(undocumented) > 5 else ''}")


def judge(verdict: Verdict) -> None:
    """What the three gradings must show."""
    from grader.record.kinds import Outcome
    from grader.record.results import VISIBILITIES

    def failed_names(result, hidden_only=False):
        return [t.name for t in result.tests if not t.passed and (not hidden_only or not t.public)]

    reference = verdict.results.get("reference")
    if reference is not None:
        if reference.outcome is not Outcome.GRADED:
            verdict.grading.append(f"the reference could not be graded: {_first_line(reference.refused or reference.grader_failure)}")
        elif reference.max_score <= 0:
            verdict.grading.append("grading the reference ran no tests")
        elif reference.score != reference.max_score:
            names = failed_names(reference)
            verdict.grading.append(f"the reference earns {reference.score:g}/{reference.max_score:g}; failing: "
                                    f"{'; '.join(names[:4])}{' …' if len(names) > 4 else ''}")
        for test in reference.tests:
            if test.max_score <= 0:
                verdict.grading.append(f"test {test.name!r} is worth no points")
            if test.visibility not in VISIBILITIES:
                verdict.grading.append(f"test {test.name!r} has an unknown visibility {test.visibility!r}")
            if test.public and test.nodeid.startswith("solutions/"):
                verdict.grading.append(f"hidden test {test.name!r} is marked visible: learners would see its output")
        if reference.tests and all(t.public for t in reference.tests):
            verdict.grading.append("no test is hidden")
    for kind, label in (("starter", "starter module"), ("notebook", "starter notebook")):
        result = verdict.results.get(kind)
        if result is None:
            continue
        if result.outcome is not Outcome.GRADED:
            verdict.grading.append(f"the {label} could not be graded: {_first_line(result.refused or result.grader_failure)}")
            continue
        if result.max_score > 0 and result.score >= result.max_score:
            verdict.grading.append(f"the {label} earns full marks")
        if not failed_names(result, hidden_only=True):
            verdict.grading.append(f"the {label} fails no hidden test")
        if reference is not None and reference.tests and len(result.tests) != len(reference.tests):
            verdict.grading.append(f"the {label} ran {len(result.tests)} tests, the reference "
                                    f"{len(reference.tests)}")


def _first_line(text: str | None) -> str:
    from grader.learner_text import shorten

    lines = (text or "").strip().splitlines()
    return shorten(lines[0], 160) if lines else ""


def exercises_to_validate(course, exercise_ids: list[str]) -> list[str]:
    """The ids asked for (every exercise when none is): an unknown one is an error with a suggestion."""
    ids = list(exercise_ids) or course.exercise_ids()
    if not ids:
        raise NothingToValidate(f"no exercises found under {course.exercises_dir}")
    known = set(course.exercise_ids())
    for exercise_id in ids:
        if exercise_id not in known:
            course.exercise(exercise_id)  # raises UnknownExercise, with the nearest id
    return ids


def validate_course(course, exercise_ids: list[str], *, sandbox: "Sandbox", jobs: int = 2,
                    output_dir: Path | None = None, cache_root: Path | None = None,
                    on_done=None) -> list[Verdict]:
    """Grade each exercise's reference, starter module and starter notebook, and judge them.

    Results and the batch cache go to temporary folders unless ``output_dir`` and ``cache_root`` are given.
    """
    with tempfile.TemporaryDirectory(prefix="hml-validate-") as temporary:
        return _validate(course, exercise_ids, jobs=jobs, sandbox=sandbox,
                         output_dir=output_dir or Path(temporary) / "results",
                         cache_root=cache_root or Path(temporary) / "cache", on_done=on_done)


def _validate(course, exercise_ids: list[str], *, jobs: int, sandbox: "Sandbox", output_dir: Path, cache_root: Path,
              on_done) -> list[Verdict]:
    from grader.batch.engines import LocalEngine
    from grader.batch.plan import plan
    from grader.batch.progress import guess_seconds
    from grader.course.model import BrokenExercise
    from grader.grading.run import Job

    verdicts: dict[str, Verdict] = {}
    exercises = {}
    for exercise_id in exercise_ids:
        verdict = verdicts[exercise_id] = Verdict(exercise_id)
        try:
            exercises[exercise_id] = course.exercise(exercise_id)
        except BrokenExercise as exc:
            verdict.static.append(str(exc))
            continue
        static_checks(exercises[exercise_id], verdict)

    work = []
    for exercise_id, exercise in sorted(exercises.items(), key=lambda kv: -guess_seconds(kv[1])):
        for kind, path in (("reference", exercise.reference), ("starter", exercise.starter),
                           ("notebook", exercise.starter_notebook)):
            if path.is_file() and (exercise.public_tests or exercise.hidden_tests):
                work.append(Job(exercise, path, kind, output_dir / exercise_id, learner=kind))
    # Each exercise's reference first (it fills the batch cache), longest exercises first.
    work = [j for j in work if j.name == "reference"] + [j for j in work if j.name != "reference"]
    started = {}

    def start(job):
        started[(job.exercise.id, job.name)] = time.monotonic()

    def done(job, result):
        verdict = verdicts[job.exercise.id]
        verdict.results[job.name] = result
        verdict.seconds += result.execution_time
        if on_done:
            on_done(job, result)

    # Nothing is skipped: validation grades every reference and starter afresh (no gradebook to reuse from).
    LocalEngine(cache_root, sandbox, jobs).run(plan(work, course, None), course=course, on_start=start, on_done=done)
    for verdict in verdicts.values():
        if verdict.exercise in exercises:
            judge(verdict)
    return [verdicts[i] for i in exercise_ids]
