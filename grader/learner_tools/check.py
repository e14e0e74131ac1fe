"""What ``hml check`` does: find the learner's exercise and file, run the public tests, keep the record.

The command (``grader/commands/check.py``) only shows what these functions
return. The learner's own code is checked, so a missing sandbox is a warning
here, not a refusal as in instructor grading.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable, ContextManager

from grader.course.model import Course, Exercise
from grader.errors import GraderError
from grader.learner_tools.workspace import LastCheck, LearnerWorkspace, now_iso
from grader.record.kinds import Outcome
from grader.record.results import GradeResult

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


class CheckTargetError(GraderError):
    """Which exercise or which file to check cannot be told; the message says how to name it."""


@dataclass
class CheckTarget:
    exercise: Exercise
    path: Path
    workspace: LearnerWorkspace | None  # the `hml start` folder the file lies in, if any
    warnings: list[str] = field(default_factory=list)


class CheckEnd(Enum):
    """How a check ended, for what the command shows and its exit status."""

    PASSED = "passed"            # every public test passed
    FAILED = "failed"            # tests ran; some failed, or the grading itself failed
    UNREADABLE = "unreadable"    # the notebook is not a notebook
    NOT_RUN = "not run"          # a problem found before running means no test can run (a syntax error, an
                                 # import the grading environment lacks)


@dataclass
class CheckOutcome:
    target: CheckTarget
    end: CheckEnd
    problems: list = field(default_factory=list)  # grader.grading.explain.Problem, found before running
    source: object = None                          # grader.grading.explain.Source, for the feedback
    result: GradeResult | None = None
    unreadable: str = ""                           # why the notebook could not be read


def find_target(course: Course, exercise_id: str | None, path: Path | None, notebook: bool) -> CheckTarget:
    """Which exercise, which file, and the learner's workspace (if the file is in one)."""
    warnings = []
    known = course.exercise_ids()
    if exercise_id and path is None and exercise_id not in known and _looks_like_path(exercise_id):
        exercise_id, path = None, Path(exercise_id)
    if path is not None and not path.exists():
        raise CheckTargetError(f"{path} does not exist")

    workspace = LearnerWorkspace.find(path if path is not None else Path.cwd())
    if exercise_id:
        exercise = course.exercise(exercise_id)
        if workspace is not None and workspace.exercise != exercise.id:
            if path is None:
                warnings.append(f"this folder is a workspace of {workspace.exercise}; checking it against "
                                f"{exercise.id}, as you asked")
            workspace = None  # its record is for another exercise
    elif workspace is not None and workspace.exercise in known:
        exercise = course.exercise(workspace.exercise)
    else:
        exercise = _infer_exercise(course, path)

    if path is None or path.is_dir():
        base = path if path is not None else (workspace.directory if workspace is not None else Path.cwd())
        path = _pick_file(exercise, base, notebook, workspace, warnings)
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise CheckTargetError(f"{path.name}: check a .py module, an .ipynb notebook or a .zip "
                               f"holding {exercise.file}")
    if workspace is not None and not path.resolve().is_relative_to(workspace.directory):
        workspace = None
    return CheckTarget(exercise, path, workspace, warnings)


def run_check(target: CheckTarget, sandbox, *, course: Course,
              running: Callable[[], ContextManager] = contextlib.nullcontext) -> CheckOutcome:
    """Read the file, look for problems no test could run past, run the public tests; record the check.

    ``running`` wraps the test run (the command shows a spinner there).
    """
    from grader.grading.warm import Warm

    # Started first: their imports overlap reading and checking the file.
    with Warm.started(course, sandbox, [target.exercise]) as warm:
        return _checked(target, sandbox, course, running, warm)


def _checked(target: CheckTarget, sandbox, course: Course, running: Callable[[], ContextManager], warm) -> CheckOutcome:
    from grader.grading.explain import Source, preflight, read_source
    from grader.grading.run import grade_one
    from grader.intake.notebooks import NotebookError

    exercise, path = target.exercise, target.path
    outcome = CheckOutcome(target, CheckEnd.FAILED, source=Source(Path(exercise.file), ""))
    if path.suffix in (".py", ".ipynb"):
        try:
            outcome.source = read_source(path)
        except NotebookError as exc:
            outcome.end, outcome.unreadable = CheckEnd.UNREADABLE, str(exc)
            _record(target, LastCheck(0, public_points(exercise), 0, 0, now_iso(), _relative(target),
                                      "unreadable notebook"))
            return outcome
        outcome.problems = preflight(outcome.source, exercise.functions)
    if any(p.fatal for p in outcome.problems):
        outcome.end = CheckEnd.NOT_RUN
        outcome.result = GradeResult(path.stem, exercise.id, refused=outcome.problems[0].title,
                                     sandboxed=sandbox.confines)
        _record(target, LastCheck(0, public_points(exercise), 0, 0, now_iso(), _relative(target),
                                  outcome.problems[0].short or "not run"))
        return outcome

    with tempfile.TemporaryDirectory(prefix="hml-check-") as scratch, running():
        result = grade_one(exercise, path, path.stem, Path(scratch) / "results.json", course=course,
                           sandbox=sandbox, cache_dir=cache_dir(course, exercise), include_hidden=False, warm=warm)
    outcome.result = result
    passed = sum(t.passed for t in result.tests)
    failed = len(result.tests) - passed
    ok = result.outcome is Outcome.GRADED and failed == 0
    outcome.end = CheckEnd.PASSED if ok else CheckEnd.FAILED
    note = {Outcome.REFUSED: "refused", Outcome.GRADER_ERROR: "the check failed"}.get(result.outcome, "")
    _record(target, LastCheck(result.score, result.max_score or public_points(exercise), passed, failed,
                              now_iso(), _relative(target), note))
    return outcome


def choose_sandbox(requested: str, unsandboxed: bool):
    """The sandbox a check runs in, and warnings to show: it is the learner's own code, so without a sandbox
    the check still runs."""
    from grader.sandbox.launch import Sandbox, SandboxUnavailable, choose

    unsandboxed = unsandboxed or requested == "none"
    try:
        chosen = choose("none" if unsandboxed else requested)
    except SandboxUnavailable as exc:
        return Sandbox.NONE, [f"{exc}: your code runs unsandboxed"]
    return chosen, ["running your code without the sandbox (--sandbox none)"] if unsandboxed else []


def learner_cache() -> Path:
    """Where a learner's checks keep what they keep between runs (``HML_CACHE_DIR`` overrides it)."""
    import platformdirs

    return Path(os.environ.get("HML_CACHE_DIR") or platformdirs.user_cache_dir("hml-grader"))


def cache_dir(course: Course, exercise: Exercise) -> Path:
    """A reference cache kept between checks (the grader's batch cache), reset when the suite changes."""
    from grader.batch.digests import suite_hash
    from grader.grading import batch_cache

    root = learner_cache() / "check"
    target = batch_cache.folder(root, exercise, suite_hash(exercise, course))
    batch_cache.drop_stale(root, exercise, keep=target)
    return target


def public_points(exercise: Exercise) -> float:
    from grader.course.points import files_points

    try:
        return files_points(exercise.public_tests)
    except Exception:  # noqa: BLE001 - only a display value
        return 0.0


def display(path: Path) -> str:
    """``path`` as the learner would type it from here."""
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
        return str(shown) if str(shown) != "." else "this folder"
    except ValueError:
        return str(path)


def _pick_file(exercise: Exercise, base: Path, notebook: bool, workspace: LearnerWorkspace | None,
               warnings: list[str]) -> Path:
    module = base / exercise.file
    book = base / f"{exercise.module_name}.ipynb"
    if notebook:
        if not book.is_file():
            raise CheckTargetError(f"there is no {book.name} in {display(base)}")
        return book
    prefer_notebook = workspace is not None and workspace.notebook
    first, second = (book, module) if prefer_notebook else (module, book)
    if first.is_file():
        if second.is_file() and second.stat().st_mtime > first.stat().st_mtime + 1:
            warnings.append(f"{second.name} is newer than {first.name}; checking {first.name} "
                            f"(to check the other: `hml check {exercise.id} {second.name}`)")
        return first
    if second.is_file():
        return second
    raise CheckTargetError(
        f"there is no {module.name} or {book.name} in {display(base)}. Start the exercise with "
        f"`hml start {exercise.id}` (add --notebook for a notebook), or name the file: "
        f"`hml check {exercise.id} PATH`.")


def _infer_exercise(course: Course, path: Path | None) -> Exercise:
    """The exercise whose module (or notebook) file name matches; an error when none or several do."""
    if path is not None and path.is_file():
        names = {path.name}
    else:
        folder = path if path is not None else Path.cwd()
        names = {p.name for p in folder.iterdir() if p.suffix in (".py", ".ipynb")} if folder.is_dir() else set()
    matches = [e for e in course.exercises() if e.file in names or f"{e.module_name}.ipynb" in names]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CheckTargetError(
            "which exercise? Name it: `hml check ID [PATH]` (see `hml list`), or run `hml check` in a folder "
            "made by `hml start ID`.")
    ids = ", ".join(e.id for e in matches)
    example = path.name if path is not None and path.is_file() else matches[0].file
    raise CheckTargetError(
        f"several exercises use that file name ({ids}): name the one you mean, e.g. "
        f"`hml check {matches[0].id} {example}`.")


def _record(target: CheckTarget, check: LastCheck) -> None:
    if target.workspace is None:
        return
    try:
        target.workspace.record(check)
    except OSError:
        pass  # a read-only folder: the record is a convenience


def _relative(target: CheckTarget) -> str:
    if target.workspace is not None:
        try:
            return target.path.resolve().relative_to(target.workspace.directory).as_posix()
        except ValueError:
            pass
    return str(target.path)


def _looks_like_path(text: str) -> bool:
    return Path(text).exists() or text.endswith(SUBMISSION_SUFFIXES) or "/" in text or "\\" in text
