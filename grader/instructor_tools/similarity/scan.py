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
from grader.instructor_tools.similarity.features import Bag, common_keys, compare
from grader.instructor_tools.similarity.handed_in import ArtifactKind, handed_in
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
            pairs = _code_pairs(exercise, submissions)
            if request.artifacts and request.sandbox is not None:
                _add_artifact_signal(pairs, exercise, submissions, sandbox, request.jobs, result.notes)
            result.pairs += pairs.values()
    if not result.pairs:
        raise NothingToCompare("no exercise of the class has two submissions to compare")
    result.pairs = ranked(result.pairs)
    return result


def _code_pairs(exercise: Exercise, submissions: list[Submission]) -> dict[tuple[int, int], Pair]:
    comparer = code.CodeComparer(code.starter_sources(exercise))
    prints = [comparer.fingerprint(s.source) for s in submissions]
    pairs = {}
    for i, j in itertools.combinations(range(len(submissions)), 2):
        a, b = sorted((i, j), key=lambda k: submissions[k].learner)
        pairs[(i, j)] = Pair(exercise.id, (submissions[a].learner, submissions[b].learner),
                             code=comparer.compare(prints[a], prints[b]))
    return pairs


def _add_artifact_signal(pairs: dict[tuple[int, int], Pair], exercise: Exercise, submissions: list[Submission],
                         sandbox: Callable[[], "Sandbox"], jobs: int, notes: list[str]) -> None:
    files = [handed_in(s.path) for s in submissions]
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
        course_models = models.course_models()
        answers = sandboxed.fingerprint_models(course_models + [m for ms in model_files for m in ms], sandbox())
        reference, answers = answers[:len(course_models)], answers[len(course_models):]
        bags: list[Bag | None] = []
        for index, files_here in enumerate(model_files):
            mine, answers = answers[:len(files_here)], answers[len(files_here):]
            readable = [a for a in mine if a.get("ok")]
            if len(readable) < len(mine):
                notes.append(f"{submissions[index].learner}/{exercise.id}: a .tflite file could not be read")
            bags.append(sum((models.features(a) for a in readable), Bag()) if readable else None)
        _compare_bags(pairs, bags, [models.features(a) for a in reference if a.get("ok")], "model", submissions)


def _pipeline_bag(package: bytes, submission: Submission | None, exercise: Exercise, notes: list[str]) -> Bag | None:
    from grader.judging import kfp_ir

    try:
        return pipelines.features(kfp_ir.load(package))
    except Exception:  # noqa: BLE001 - a learner's malformed package is a note, never the scan's end
        if submission is not None:
            notes.append(f"{submission.learner}/{exercise.id}: its pipeline package could not be read")
        return None


def _compare_bags(pairs: dict[tuple[int, int], Pair], bags: list[Bag | None], reference: list[Bag],
                  signal: str, submissions: list[Submission]) -> None:
    """Strip the boilerplate (the course's artifacts, and what most of the class shares), then compare pairs."""
    present = [b for b in bags if b is not None]
    boring = common_keys(present) | {key for bag in reference for key in bag.weights}
    stripped = [b.without(boring) if b is not None else None for b in bags]
    for (i, j), pair in pairs.items():
        if stripped[i] is None or stripped[j] is None:
            continue
        a, b = (i, j) if submissions[i].learner <= submissions[j].learner else (j, i)
        setattr(pair, signal, compare(stripped[a], stripped[b]))
