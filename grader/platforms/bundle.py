"""What a platform image holds: the course source, its pinned dependencies, and files made from templates.

The grader runs on a platform from a copy of the course (the ``grader``
package, the exercises it grades and their solutions, ``pyproject.toml``),
installed in editable mode so the package finds its course beside it (and
its data files, which the wheel does not carry). Dependencies are pinned by
the course's ``constraints.txt``, the file ``make install`` and CI install
with, so the platform grades with the libraries the course was tested with.
"""
from __future__ import annotations

import shutil
import stat
from pathlib import Path

import jinja2

from grader.course.model import Course
from grader.errors import GraderError

TEMPLATES = Path(__file__).with_name("templates")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", ".pytest_cache")
TOP_FILES = ("pyproject.toml", "README.md")
CONSTRAINTS = "constraints.txt"  # the lock file at the top of the checkout (`make lock`)
EXECUTABLE = 0o755


class BundleError(GraderError):
    """The course cannot be bundled as asked (an unknown exercise, a missing file)."""


def exercise_ids(course: Course, wanted: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The exercises to bundle: ``wanted`` (each checked), else every exercise of the course."""
    known = course.exercise_ids()
    if not known:
        raise BundleError(f"{course.root} holds no exercises")
    for exercise_id in wanted:
        course.exercise(exercise_id)  # UnknownExercise says which ids exist
    return list(dict.fromkeys(wanted)) or known


def copy_course(course: Course, dest: Path, ids: list[str]) -> None:
    """Copy the grader package, ``ids``' exercises and solutions, and the project files into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in TOP_FILES:
        source = course.root / name
        if not source.is_file():
            raise BundleError(f"{source} is missing; bundle from a course checkout")
        shutil.copyfile(source, dest / name)
    shutil.copytree(course.root / "grader", dest / "grader", ignore=SKIPPED, dirs_exist_ok=True)
    for exercise_id in ids:
        exercise = course.exercise(exercise_id)
        shutil.copytree(exercise.directory, dest / "exercises" / exercise_id, ignore=SKIPPED, dirs_exist_ok=True)
        if exercise.solution_dir.is_dir():
            shutil.copytree(exercise.solution_dir, dest / "solutions" / exercise_id, ignore=SKIPPED,
                            dirs_exist_ok=True)


def constraints(course: Course) -> str:
    """The course's ``constraints.txt``: the pins ``make install`` and CI install with (written by ``make lock``),
    so a platform image grades with the libraries the course was tested with."""
    source = course.root / CONSTRAINTS
    if not source.is_file():
        raise BundleError(f"{source} is missing; bundle from a course checkout (`make lock` writes it)")
    return source.read_text()


def render(template: str, **values) -> str:
    """A generated file from ``templates/``; ``*.html.j2`` templates are autoescaped, others are plain text."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=template.endswith(".html.j2"),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(template).render(**values)


def write_executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
