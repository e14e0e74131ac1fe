"""The learner bundle holds what learners need and nothing of solutions/ or the hidden tests."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.model import Course
from grader.instructor_tools.release import distinctive_lines, public_material, secret_kind

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]


def _hml(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    if root is not None:
        env["HML_COURSE_ROOT"] = str(root)
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    result = _hml("release", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _bundle_files(bundle: Path) -> dict[str, bytes]:
    return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}


def test_bundle_holds_what_learners_need(bundle, course):
    """Statements, starters, notebooks, public tests and metadata of every exercise, the quizzes, the engine."""
    files = _bundle_files(bundle)
    for exercise in course.exercises():
        for path in [exercise.statement, exercise.starter, exercise.starter_notebook,
                     exercise.directory / "exercise.toml", *exercise.public_tests]:
            name = f"exercises/{exercise.id}/{path.name}"
            assert files.get(name) == path.read_bytes(), f"{name} missing or different"
    for quiz in sorted((ROOT / "quizzes").glob("*.yaml")):
        assert files.get(f"quizzes/{quiz.name}") == quiz.read_bytes()
    for name in ("pyproject.toml", "README.md", "grader/__init__.py", "grader/cli.py", "grader/grading/plugin.py",
                 "grader/record/report/templates/index.html.j2"):
        assert name in files, name
    manifest = json.loads(files["bundle-manifest.json"])
    assert sorted(manifest["exercises"]) == course.exercise_ids()


def test_bundle_readme_is_the_learners_own(bundle, course):
    """The bundle's README is written for learners: no instructor command (make demo, grading), every
    exercise named, and every file it links is in the bundle."""
    import re

    readme = (bundle / "README.md").read_text()
    assert readme != (ROOT / "README.md").read_text()
    assert "make demo" not in readme and "grade-course" not in readme and "instructors.md" not in readme
    assert "hml check" in readme and all(f"`{e}`" in readme for e in course.exercise_ids())
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links and all((bundle / link).is_file() for link in links), links


def test_bundle_holds_no_file_or_line_of_solutions(bundle, course):
    """No bundle file equals a file of solutions/ (reference solutions, hidden tests, helpers), no path or
    hidden test name appears, and no distinctive line of those files appears in any bundle file."""
    secrets = sorted(p for p in (ROOT / "solutions").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert any(p.name.startswith("test_") for p in secrets) and any(p.suffix == ".py" for p in secrets)
    files = _bundle_files(bundle)
    digests = {hashlib.sha256(data).hexdigest(): name for name, data in files.items()}
    texts = {name: data.decode("utf-8", "replace") for name, data in files.items()}
    public = public_material(course)
    checked_lines = 0
    for secret in secrets:
        label = secret.relative_to(ROOT).as_posix()
        data = secret.read_bytes()
        assert hashlib.sha256(data).hexdigest() not in digests, f"{digests.get(hashlib.sha256(data).hexdigest())} " \
                                                                f"is a copy of {label}"
        if secret.name.startswith("test_"):
            assert not [n for n in files if Path(n).name == secret.name], f"{secret.name} is in the bundle"
        lines = distinctive_lines(data.decode("utf-8", "replace"), public[secret_kind(secret)])
        checked_lines += len(lines)
        for name, text in texts.items():
            flat = " ".join(text.split())
            found = [line for line in lines if line in flat]
            assert not found, f"{name} holds text of {label}: {found[:3]}"
    assert not [n for n in files if n.startswith("solutions/") or "/solutions/" in n]
    assert checked_lines > 500, "too few distinctive lines for the comparison to mean anything"


def test_bundle_holds_no_conversion_code(bundle):
    """The engine in the bundle cannot compute the mobile exercises' graded artifacts: no file under grader/
    sets a quantization (the reference conversions stay behind), while the statements may still show it."""
    files = _bundle_files(bundle)
    engine = {name: data for name, data in files.items() if name.startswith("grader/")}
    assert "grader/judging/evaluators/tflite.py" in engine  # the artifact readers ship: public tests use them
    assert "grader/fixtures/public_references.json" in engine
    for word in (b"supported_types", b"inference_input_type", b"convert_variables_to_constants"):
        holders = sorted(name for name, data in engine.items() if word in data)
        assert not holders, f"{word.decode()} in {holders}"
    assert b"supported_types" in files["exercises/tflite_quantize/README.md"]


def test_bundle_is_usable_by_a_learner(bundle, tmp_path, sandboxed):
    """With the bundle as the course, a starter is graded on the public tests alone."""
    out = tmp_path / "out"
    result = _hml("grade", "-e", "hybrid_placement", "-o", str(out),
                  str(bundle / "exercises" / "hybrid_placement" / "placement.py"), root=bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "placement" / "results.json").read_text())
    assert data["tests"] and all(t["visibility"] == "visible" for t in data["tests"])
    # The bundle's own engine ran the starter: its TODOs raised, no worker failed to start.
    outputs = [t["output"] for t in data["tests"]]
    assert all("NotImplementedError" in o for o in outputs), outputs


def test_mobile_public_tests_run_without_conversion_code(bundle, tmp_path, sandboxed):
    """In the bundle, which holds no reference conversion, a correct tflite_quantize submission still earns
    every public point: the public tests read the stored reference results instead of converting."""
    out = tmp_path / "out"
    result = _hml("grade", "-e", "tflite_quantize", "-o", str(out),
                  str(ROOT / "solutions" / "tflite_quantize" / "quantize.py"), root=bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "quantize" / "results.json").read_text())
    assert data["tests"] and all(t["visibility"] == "visible" for t in data["tests"])
    assert all(t["score"] == t["max_score"] for t in data["tests"]), [t["output"] for t in data["tests"]]


@pytest.fixture
def leaky_course(tmp_path) -> Path:
    """A copy of two exercises where an author pasted a hidden assertion into a statement and left a
    reformatted copy of a reference solution in an exercise folder."""
    course = tmp_path / "course"
    for exercise in ("hybrid_placement", "kfp_basic_pipeline"):
        for folder in ("exercises", "solutions"):
            shutil.copytree(ROOT / folder / exercise, course / folder / exercise,
                            ignore=shutil.ignore_patterns("__pycache__"))
    real = Course(course)
    hidden = (course / "solutions" / "hybrid_placement" / "test_hidden.py").read_text()
    pasted = sorted(distinctive_lines(hidden, public_material(real)["hidden"]), key=len)[-1]
    with (course / "exercises" / "hybrid_placement" / "README.md").open("a") as stream:
        stream.write(f"\n    {pasted}\n")
    reference = (course / "solutions" / "kfp_basic_pipeline" / "pipeline.py").read_text()
    (course / "exercises" / "kfp_basic_pipeline" / "answer.py").write_text(reference.replace("\n", "\n\n"))
    return course


def test_release_refuses_a_leaking_bundle(leaky_course, tmp_path):
    """The check catches a pasted hidden line and a reformatted reference: exit 1, both named, no bundle."""
    out = tmp_path / "bundle"
    result = _hml("release", str(out), root=leaky_course)
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "exercises/hybrid_placement/README.md holds a line of solutions/hybrid_placement/test_hidden.py" in text
    assert "exercises/kfp_basic_pipeline/answer.py holds a copy (whitespace aside) of " \
           "solutions/kfp_basic_pipeline/pipeline.py" in text
    assert not out.exists() and not (tmp_path / "bundle.partial").exists()
