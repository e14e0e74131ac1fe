"""One similarity scan of a class: every exercise's submissions compared in pairs, on each signal it has."""
from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from grader.course.model import Course, Exercise
from grader.instructor_tools.similarity import code, models, pipelines, sandboxed
from grader.instructor_tools.similarity.errors import NothingToCompare
from grader.instructor_tools.similarity.features import Bag, by_rarity, compare
from grader.instructor_tools.similarity.handed_in import ArtifactKind, HandedIn, handed_in
from grader.instructor_tools.similarity.ranking import Pair, ranked
from grader.instructor_tools.similarity.submissions import Submission, read_class

if TYPE_CHECKING:  # pragma: no cover
    from grader.sandbox.launch import Sandbox


@dataclass
class ScanRequest:
    root: Path
    course: Course
    exercises: tuple[str, ...] = ()  # only these (default: every exercise found)
    output_dir: Path | None = None  # never a learner folder, when it lies inside ROOT
    artifacts: bool = True  # pipelines and models too (they need a sandbox), not only code
    sandbox: Callable[[], "Sandbox"] | None = None  # called once, and only if an artifact needs it
    jobs: int = 2


@dataclass
class ScanResult:
    pairs: list[Pair] = field(default_factory=list)  # ranked, highest first
    notes: list[str] = field(default_factory=list)  # learner-made text: for_console before printing


def scan(request: ScanRequest) -> ScanResult:
    result = ScanResult()
    chosen: list["Sandbox"] = []

    def sandbox() -> "Sandbox":
        if not chosen:
            chosen.append(request.sandbox())
        return chosen[0]

    with tempfile.TemporaryDirectory(prefix="hml-similarity-") as workdir:
        found = read_class(request.root, request.course, request.exercises, Path(workdir), request.output_dir)
        result.notes += found.notes
        for exercise_id, submissions in found.by_exercise.items():
            if len(submissions) < 2:
                continue
            exercise = submissions[0].exercise
            pairs = _code_pairs(exercise, submissions, result.notes)
            if request.artifacts and request.sandbox is not None:
                _add_artifact_signal(pairs, exercise, submissions, sandbox, request.jobs, result.notes)
            result.pairs += pairs.values()
    if not result.pairs:
        raise NothingToCompare("no exercise of the class has two submissions to compare")
    result.pairs = ranked(result.pairs)
    return result


def _code_pairs(exercise: Exercise, submissions: list[Submission], notes: list[str]) -> dict[tuple[int, int], Pair]:
    comparer = code.CodeComparer(code.starter_sources(exercise))
    prints = []
    for submission in submissions:
        try:
            prints.append(comparer.fingerprint(submission.source))
        except Exception as exc:  # noqa: BLE001 - one submission's trouble is a note, never the run's end
            prints.append(None)
            notes.append(f"{submission.learner}/{exercise.id}: code not compared ({type(exc).__name__})")
    pairs = {}
    for i, j in itertools.combinations(range(len(submissions)), 2):
        a, b = sorted((i, j), key=lambda k: submissions[k].learner)
        match = None
        if prints[a] is not None and prints[b] is not None:
            try:
                match = comparer.compare(prints[a], prints[b])
            except Exception:  # noqa: BLE001 - the pair is left without a code score
                match = None
        pairs[(i, j)] = Pair(exercise.id, (submissions[a].learner, submissions[b].learner), code=match)
    return pairs


def _handed_in(submission: Submission, exercise: Exercise, notes: list[str]) -> list[HandedIn]:
    try:
        search = handed_in(submission.path)
    except Exception as exc:  # noqa: BLE001 - one folder's trouble is a note, never the run's end
        notes.append(f"{submission.learner}/{exercise.id}: its files could not be searched ({type(exc).__name__})")
        return []
    if search.problem:
        notes.append(f"{submission.learner}/{exercise.id}: its folder {search.problem}")
    return search.files


def _add_artifact_signal(pairs: dict[tuple[int, int], Pair], exercise: Exercise, submissions: list[Submission],
                         sandbox: Callable[[], "Sandbox"], jobs: int, notes: list[str]) -> None:
    files = [_handed_in(s, exercise, notes) for s in submissions]
    pipeline = pipelines.pipeline_function(exercise)
    packages: list[bytes | None] = [None] * len(submissions)
    boilerplate_packages: list[bytes] = []
    if pipeline is not None:
        compiled = sandboxed.compile_learner_pipelines(submissions, pipeline, sandbox(), jobs)
        for index, outcome in enumerate(compiled):
            packages[index] = outcome.package
            if outcome.problem:
                notes.append(f"{submissions[index].learner}/{exercise.id}: pipeline not compared: {outcome.problem}")
        boilerplate_packages = sandboxed.compile_course_pipeline(exercise, pipeline, sandbox())
    else:  # no pipeline to compile: a package the learner handed in, if any
        packages = [next((f.data for f in items if f.kind is ArtifactKind.PIPELINE), None) for items in files]
    if any(p is not None for p in packages):
        bags = [_pipeline_bag(p, submissions[i], exercise, notes) if p is not None else None
                for i, p in enumerate(packages)]
        reference = [_pipeline_bag(p, None, exercise, notes) for p in boilerplate_packages]
        _compare_bags(pairs, bags, [b for b in reference if b is not None], "pipeline", submissions)
    model_files = [[f.data for f in items if f.kind is ArtifactKind.MODEL] for items in files]
    if sum(bool(m) for m in model_files) >= 2:
        # One group per submission, each read by evaluators of its own; the course's models are a group too.
        answers = sandboxed.fingerprint_models([models.course_models()] + model_files, sandbox(), jobs)
        reference, answers = answers[0], answers[1:]
        bags: list[Bag | None] = []
        for index, mine in enumerate(answers):
            readable = [a for a in mine if a.get("ok")]
            if len(readable) < len(mine):
                notes.append(f"{submissions[index].learner}/{exercise.id}: a .tflite file could not be read")
            try:
                bags.append(sum((models.features(a) for a in readable), Bag()) if readable else None)
            except Exception as exc:  # noqa: BLE001 - an answer of an unexpected shape costs its submission alone
                bags.append(None)
                notes.append(f"{submissions[index].learner}/{exercise.id}: model not compared ({type(exc).__name__})")
        _compare_bags(pairs, bags, [models.features(a) for a in reference if a.get("ok")], "model", submissions,
                      containment=True, floor=models.FLOOR, exempt=models.is_weight)


def _pipeline_bag(package: bytes, submission: Submission | None, exercise: Exercise, notes: list[str]) -> Bag | None:
    from grader.judging import kfp_ir

    try:
        return pipelines.features(kfp_ir.load(package))
    except Exception:  # noqa: BLE001 - a learner's malformed package is a note, never the scan's end
        if submission is not None:
            notes.append(f"{submission.learner}/{exercise.id}: its pipeline package could not be read")
        return None


def _compare_bags(pairs: dict[tuple[int, int], Pair], bags: list[Bag | None], reference: list[Bag],
                  signal: str, submissions: list[Submission], containment: bool = False, floor: float = 0.0,
                  exempt: Callable[[str], bool] = lambda key: False) -> None:
    """Strip the course's own artifacts, weigh what many share (``features.by_rarity``), then compare pairs.

    Nothing is stripped for being common to the class: see ``features`` for why (copiers must not hide by
    being many)."""
    boring = {key for bag in reference for key in bag.weights}
    present = [i for i, b in enumerate(bags) if b is not None]
    weighed = by_rarity([bags[i].without(boring) for i in present], exempt)
    stripped: list[Bag | None] = [None] * len(bags)
    for i, bag in zip(present, weighed):
        stripped[i] = bag
    for (i, j), pair in pairs.items():
        if stripped[i] is None or stripped[j] is None:
            continue
        a, b = (i, j) if submissions[i].learner <= submissions[j].learner else (j, i)
        setattr(pair, signal, compare(stripped[a], stripped[b], containment, floor))
