"""Gradescope autograders: the autograder zip for one exercise, and ``results.json`` inside it.

The zip holds ``setup.sh`` and ``run_autograder`` at its root, the course
source with that exercise only (its solutions and hidden tests included), the
pinned constraints, and ``hml_gradescope.json`` recording the exercise and
how hidden tests are shown. Gradescope unpacks it to ``/autograder/source``.

Visibility follows Gradescope's semantics: public tests are ``visible``;
hidden tests take the build-time choice: ``hidden`` (never shown; the total,
hidden points included, shows at once), ``after_due_date`` or
``after_published`` (shown, pass/fail only, from then on, and the learner's
total is hidden until then). Hidden tests never carry output.

A grader failure writes no ``results.json`` (Gradescope then reports that
the autograder failed and records no score) and exits non-zero; the details
go to standard output, which only instructors see.
"""
from __future__ import annotations

import json
import re
import tempfile
import traceback
import zipfile
from pathlib import Path

from grader.course.model import Course
from grader.errors import GraderError
from grader.learner_text import shorten
from grader.platforms import bundle, learner_view
from grader.platforms.submission import submitted
from grader.record.kinds import Kind, Outcome
from grader.record.results import GradeResult

CONFIG_FILE = "hml_gradescope.json"
HIDDEN_AS = ("hidden", "after_due_date", "after_published")
VENV = "/autograder/hml-venv"
MAX_OUTPUT = 4000  # characters of a public test's message
# Exercises with a leaderboard: (metric a public test publishes, column name, order).
LEADERBOARDS = {"mobile_budget": [("model_bytes", "Model size (bytes)", "asc")]}
EXECUTABLES = ("setup.sh", "run_autograder")


class GradescopeError(GraderError):
    """The autograder cannot be built or configured as asked; the message says why."""


# -- the autograder zip ---------------------------------------------------------------------
def build(course: Course, out_zip: Path, exercise_id: str, hidden_as: str = "hidden") -> Path:
    """Write the autograder zip for ``exercise_id`` to ``out_zip``."""
    if hidden_as not in HIDDEN_AS:
        raise GradescopeError(f"hidden tests can be shown as {', '.join(HIDDEN_AS)}, not {hidden_as!r}")
    ids = bundle.exercise_ids(course, [exercise_id])
    config = {"exercise": exercise_id, "hidden_as": hidden_as}
    with tempfile.TemporaryDirectory(prefix="hml-gradescope-") as scratch:
        root = Path(scratch)
        bundle.copy_course(course, root / "course", ids)
        (root / "constraints.txt").write_text(bundle.constraints(course))
        (root / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        for name in EXECUTABLES:
            bundle.write_executable(root / name, bundle.render(f"gradescope/{name}.j2", exercise=exercise_id,
                                                                venv=VENV))
        out_zip = Path(out_zip)
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        _zip(root, out_zip)
    return out_zip


def _zip(root: Path, out_zip: Path) -> None:
    """Files at the archive's root (not under a folder), with their permission bits."""
    temporary = out_zip.with_name(out_zip.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    temporary.replace(out_zip)


# -- grading inside the autograder ----------------------------------------------------------
def load_config(path: Path) -> dict:
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise GradescopeError(f"{path}: the autograder's configuration cannot be read ({exc}); "
                              "rebuild the zip with hml gradescope build") from None
    if not isinstance(config, dict) or not isinstance(config.get("exercise"), str) \
            or config.get("hidden_as", "hidden") not in HIDDEN_AS:
        raise GradescopeError(f'{path}: expected {{"exercise": "<id>", "hidden_as": "{"|".join(HIDDEN_AS)}"}}')
    return config


def submission_name(metadata_path: Path) -> str:
    """A name for the submission from ``submission_metadata.json`` (its id), or ``submission``."""
    try:
        metadata = json.loads(Path(metadata_path).read_text())
        return f"submission-{int(metadata['id'])}"
    except (OSError, ValueError, TypeError, KeyError):
        return "submission"


def run(root: Path, *, sandbox: str = "auto", config: Path | None = None, course: Course | None = None) -> dict | None:
    """Grade ``root/submission/`` and write ``root/results/results.json``; ``None`` when the grader failed.

    Never raises: a grader failure prints its details and writes no results.
    """
    from grader.grading.warm import Warm
    from grader.sandbox.launch import choose

    root = Path(root)
    try:
        settings = load_config(config or root / "source" / CONFIG_FILE)
        course = course or Course()
        exercise = course.exercise(settings["exercise"])
        chosen = choose(sandbox)
        # Started first: their imports overlap the rest of this start-up.
        with Warm.started(course, chosen, [exercise]) as warm, \
                tempfile.TemporaryDirectory(prefix="hml-gradescope-") as scratch:
            from grader.grading.run import grade_one

            result = grade_one(exercise, submitted(root / "submission"),
                               submission_name(root / "submission_metadata.json"),
                               Path(scratch) / "results.json", course=course, sandbox=chosen, warm=warm)
        if result.outcome is Outcome.GRADER_ERROR:
            print(f"grader failure, no results written: {result.grader_failure}")
            return None
        data = results_json(result, settings.get("hidden_as", "hidden"))
    except Exception:  # noqa: BLE001 - a broken grader must not write a score
        print("grader failure, no results written:")
        traceback.print_exc()
        return None
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    temporary.replace(out)
    return data


def results_json(result: GradeResult, hidden_as: str = "hidden") -> dict:
    """Gradescope's ``results.json`` for ``result``, hidden tests shown as ``hidden_as``, pass/fail only."""
    tests = []
    for test in result.tests:
        hidden = not test.public
        output = "" if hidden or test.passed or not test.output.strip() else md_block(
            shorten(test.output.strip(), MAX_OUTPUT))
        if output and test.kind is Kind.NOT_ATTEMPTED:  # Gradescope knows only passed and failed
            output = "**Not attempted yet** (still the starter's TODO).\n\n" + output
        tests.append({"name": md_escape(test.name), "name_format": "md", "score": test.score,
                      "max_score": test.max_score, "status": test.status, "output": output, "output_format": "md",
                      "visibility": hidden_as if hidden else "visible"})
    data = {"score": result.score, "execution_time": round(result.published_time, 3),  # not the whole grading's
            "output": md_escape(learner_view.headline(result)), "output_format": "md",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"exercise": result.exercise, "max_score": result.max_score, "refused": result.refused,
                           "sandbox": result.sandbox}}
    board = leaderboard(result)
    if board:
        data["leaderboard"] = board
    return data


def leaderboard(result: GradeResult) -> list[dict]:
    """The exercise's leaderboard entries from the metrics its public tests published (none if absent)."""
    entries = []
    for metric, name, order in LEADERBOARDS.get(result.exercise, []):
        if metric in result.metrics:
            value = result.metrics[metric]
            entries.append({"name": name, "value": int(value) if float(value).is_integer() else value,
                            "order": order})
    return entries


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~])")


def md_escape(text: str) -> str:
    """``text`` shown literally in Markdown (no links, images, HTML or emphasis)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_block(text: str) -> str:
    """``text`` as a fenced code block whose fence no run of backticks inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"
