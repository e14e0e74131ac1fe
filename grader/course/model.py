"""The course on disk: exercises, their starters, solutions and tests."""
from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import ExitCode, GraderError


class UnknownExercise(GraderError):
    """No exercise has that id."""

    exit_code = ExitCode.USAGE


class BrokenExercise(GraderError):
    """An exercise's metadata is missing or malformed."""


@dataclass
class Exercise:
    id: str
    title: str
    course_module: str  # the course's module it belongs to (a title); module_name is the Python module
    file: str
    directory: Path
    solution_dir: Path
    functions: list[str] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    evaluator_preload: list[str] = field(default_factory=list)
    call_timeout: float = 60.0
    start_timeout: float = 120.0
    memory_mb: int = 4096
    files: list[str] = field(default_factory=list)  # more files of exercises/<id>/ that `hml start` copies
    expected_seconds: float | None = None  # one grading, measured (benchmarks/grade_batch.py): the time-left estimate

    @property
    def needs_tensorflow(self) -> bool:
        """Whether its workers load TensorFlow: heavier workers, a queue of their own, the real uid."""
        return any(p.split(".")[0] in ("tensorflow", "keras") for p in [*self.preload, *self.evaluator_preload])

    @property
    def module_name(self) -> str:
        return Path(self.file).stem

    @property
    def statement(self) -> Path:
        return self.directory / "README.md"

    @property
    def starter(self) -> Path:
        return self.directory / self.file

    @property
    def starter_notebook(self) -> Path:
        return self.directory / f"{self.module_name}.ipynb"

    @property
    def reference(self) -> Path:
        return self.solution_dir / self.file

    @property
    def extra_files(self) -> list[Path]:
        """Files the statement uses besides the starter (a pipeline to compile, say), declared in exercise.toml."""
        return [self.directory / name for name in self.files]

    @property
    def public_tests(self) -> list[Path]:
        return sorted(self.directory.glob("test_*.py"))

    @property
    def hidden_tests(self) -> list[Path]:
        return sorted(self.solution_dir.glob("test_*.py")) if self.solution_dir.is_dir() else []


# The course's order of modules; exercises of other modules come after, by name.
MODULE_ORDER = ("Kubeflow Pipelines on Vertex AI", "Building Hybrid ML Systems", "Optimizing TensorFlow for mobile")


def default_root() -> Path:
    """The course folder: ``HML_COURSE_ROOT``, else the checkout this package lives in."""
    if os.environ.get("HML_COURSE_ROOT"):
        return Path(os.environ["HML_COURSE_ROOT"]).resolve()
    return Path(__file__).resolve().parents[2]


@dataclass
class Course:
    root: Path = field(default_factory=default_root)

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def quizzes_dir(self) -> Path:
        return self.root / "quizzes"

    def exercise_ids(self) -> list[str]:
        if not self.exercises_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.exercises_dir.glob("*/exercise.toml"))

    def exercises(self) -> list[Exercise]:
        return [self.exercise(i) for i in self.exercise_ids()]

    def exercises_in_course_order(self) -> tuple[list[Exercise], list[str]]:
        """Every exercise that loads, by course module (``MODULE_ORDER``) then id; and why the others do not."""
        found, broken = [], []
        for exercise_id in self.exercise_ids():
            try:
                found.append(self.exercise(exercise_id))
            except BrokenExercise as exc:
                broken.append(str(exc))
        order = {name: i for i, name in enumerate(MODULE_ORDER)}
        found.sort(key=lambda e: (order.get(e.course_module, len(order)), e.course_module, e.id))
        return found, broken

    def exercise(self, exercise_id: str) -> Exercise:
        directory = self.exercises_dir / exercise_id
        meta_path = directory / "exercise.toml"
        if not meta_path.is_file():
            known = self.exercise_ids()
            close = difflib.get_close_matches(exercise_id, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownExercise(f"there is no exercise {exercise_id!r}.{hint} Known: {', '.join(known) or 'none'}")
        try:
            meta = tomllib.loads(meta_path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise BrokenExercise(f"{meta_path}: {exc}") from None
        missing = [k for k in ("title", "course_module", "file") if k not in meta]
        if missing:
            raise BrokenExercise(f"{meta_path}: missing {', '.join(missing)}")
        known_keys = {f for f in Exercise.__dataclass_fields__} - {"id", "directory", "solution_dir"}
        unknown = sorted(set(meta) - known_keys - {"id"})  # the folder's name is the id; the key is informative
        if unknown:  # a misspelt key would otherwise be dropped without a word
            raise BrokenExercise(f"{meta_path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(known_keys))})")
        options = {k: v for k, v in meta.items() if k in known_keys}
        return Exercise(id=exercise_id, directory=directory, solution_dir=self.solutions_dir / exercise_id, **options)
