"""Finding a class on disk and reading exercise metadata: what is a learner, what is a broken exercise."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.course.model import BrokenExercise, Course
from grader.intake.discovery import discover_class

ROOT = Path(__file__).resolve().parents[1]


def test_an_output_folder_inside_the_class_is_never_a_learner(tmp_path):
    """`grade-course ROOT -o ROOT/results` twice: the second run does not read results/ as a learner."""
    root = tmp_path / "class"
    (root / "ada" / "hybrid_placement").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "hybrid_placement" / "placement.py", root / "ada" / "hybrid_placement")
    output = root / "results"
    (output / "ada" / "hybrid_placement").mkdir(parents=True)
    (output / "ada" / "hybrid_placement" / "results.json").write_text("{}")
    older = root / "old-output"
    older.mkdir()
    (older / "gradebook.sqlite").write_bytes(b"")
    found = discover_class(root, Course(ROOT), output_dir=output)
    assert [(e.learner, e.exercise.id) for e in found.entries] == [("ada", "hybrid_placement")]
    assert not found.problems, found.problems


def test_folder_names_the_gradebook_would_merge_are_not_learners(tmp_path):
    """The gradebook keeps a name cleaned and at most 200 characters: two folders alike in their first 200
    characters, or alike once control characters or a long run of digits are cleaned, would share one learner's
    record (grades, overrides, late times). Each of them is named as a problem, never graded under a merged
    name; a name that cleans to no other folder's is graded as it is recorded."""
    root = tmp_path / "class"
    names = ["a" * 200 + "x", "a" * 200 + "y", "eve\x01", "eve", "1" * 41, "1" * 42, "ada", "bo\x7f"]
    for name in names:
        (root / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "hybrid_placement" / "placement.py", root / name / "hybrid_placement.py")
    found = discover_class(root, Course(ROOT))
    assert sorted(e.learner for e in found.entries) == ["ada", "bo\x7f"]
    assert len(found.problems) == 6 and all("rename the folders" in p for p in found.problems)


def _course_with(tmp_path: Path, extra: str) -> Course:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "exercises" / "hybrid_placement", course / "exercises" / "hybrid_placement")
    toml = course / "exercises" / "hybrid_placement" / "exercise.toml"
    toml.write_text(toml.read_text() + extra)
    return Course(course)


def test_an_unknown_exercise_toml_key_is_a_clear_error(tmp_path):
    """A misspelt key (call_timout) is named, with the known ones, instead of being dropped silently."""
    with pytest.raises(BrokenExercise, match=r"unknown key call_timout \(known: .*call_timeout"):
        _course_with(tmp_path, "call_timout = 5\n").exercise("hybrid_placement")
