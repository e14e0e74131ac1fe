"""Coursera custom graders: the image's build context, and grading one submission inside it.

One image serves the whole course. Coursera passes the part being graded in
the ``partId`` environment variable; ``parts.json`` (beside the Dockerfile,
copied into the image) maps part ids to exercise ids, and by default each
part id is the exercise id. The submission is in ``/shared/submission/``;
the grader writes ``/shared/feedback.json`` (``fractionalScore``,
``feedback``, ``feedbackType: HTML``) and ``/shared/htmlFeedback.html``,
and prints the same JSON as its only line on standard output. Both are
HTML that Coursera shows as such, and both carry text the learner's code
wrote (a public test's message quotes its exception): ``feedback`` is the
plain summary escaped, in a ``<pre>``; the page is an autoescaped template.

A grader failure (the grader's fault, not the learner's) writes
``feedback.json`` *without* ``fractionalScore`` and exits non-zero: both are
what Coursera treats as a failed grading, so the learner is given no score
(rather than 0) and may submit again.
"""
from __future__ import annotations

import html as html_text
import json
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.course.model import Course
from grader.errors import GraderError
from grader.platforms import bundle, learner_view
from grader.platforms.submission import submitted
from grader.record.kinds import Outcome
from grader.record.results import GradeResult

BASE_IMAGE = "python:3.11-slim-bookworm"
HOME = "/opt/hml"
UID = 1000
PARTS_FILE = "parts.json"
FEEDBACK = "feedback.json"
HTML_FEEDBACK = "htmlFeedback.html"
MAX_FEEDBACK_BYTES = 64 * 1024  # Coursera trims feedback beyond this
MESSAGE_LIMITS = (None, 2000, 500, 120, 0)  # tried in turn until the feedback fits
CONTEXT_FILES = ("Dockerfile", "entrypoint.sh", "constraints.txt", PARTS_FILE)


class CourseraError(GraderError):
    """The build or the part-id mapping is wrong; the message says how."""


# -- the build context ----------------------------------------------------------------------
def build(course: Course, out_dir: Path, exercise_ids: tuple[str, ...] = ()) -> list[Path]:
    """Write the build context into ``out_dir``; an edited ``parts.json`` there is kept (new exercises added)."""
    ids = bundle.exercise_ids(course, exercise_ids)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "Dockerfile").is_file():
        raise CourseraError(f"{out_dir} is not empty and holds no earlier build: choose a new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "course").exists():
        shutil.rmtree(out_dir / "course")
    bundle.copy_course(course, out_dir / "course", ids)
    (out_dir / "constraints.txt").write_text(bundle.constraints(course))
    parts = _merged_parts(out_dir / PARTS_FILE, ids)
    (out_dir / PARTS_FILE).write_text(json.dumps(parts, indent=2) + "\n")
    values = dict(title="Building Hybrid ML Systems", base_image=BASE_IMAGE, home=HOME, uid=UID)
    (out_dir / "Dockerfile").write_text(bundle.render("coursera/Dockerfile.j2", **values))
    bundle.write_executable(out_dir / "entrypoint.sh", bundle.render("coursera/entrypoint.sh.j2", **values))
    return [out_dir / name for name in CONTEXT_FILES]


def _merged_parts(path: Path, ids: list[str]) -> dict[str, str]:
    """The instructor's mapping where there is one (entries for exercises left out dropped), plus the rest."""
    parts = load_parts(path) if path.is_file() else {}
    parts = {part: exercise for part, exercise in parts.items() if exercise in ids}
    mapped = set(parts.values())
    parts.update({exercise: exercise for exercise in ids if exercise not in mapped})
    return parts


def load_parts(path: Path) -> dict[str, str]:
    """``{part id: exercise id}`` from ``parts.json``, checked."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CourseraError(f"{path}: not a readable JSON mapping of part ids to exercise ids ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CourseraError(f'{path}: expected {{"<part id>": "<exercise id>", ...}}')
    return data


def exercise_for(part_id: str | None, course: Course, parts: Path | None) -> str:
    """The exercise a part id grades: from ``parts`` when given and present, else part id = exercise id."""
    mapping = load_parts(parts) if parts is not None and Path(parts).is_file() else \
        {i: i for i in course.exercise_ids()}
    if not part_id:
        if len(set(mapping.values())) == 1:
            return next(iter(mapping.values()))
        raise CourseraError("no partId: Coursera sets it for each part; pass --part-id to grade by hand")
    if part_id not in mapping:
        raise CourseraError(f"part id {part_id!r} is not in the part-id mapping "
                            f"({', '.join(sorted(mapping)) or 'empty'}): add it to {PARTS_FILE}")
    return mapping[part_id]


# -- grading inside the image ---------------------------------------------------------------
@dataclass
class Feedback:
    data: dict  # feedback.json
    html: str
    graded: bool  # False: a grader failure, no score given
    result: GradeResult | None = field(default=None, repr=False)


def run(shared: Path, part_id: str | None, *, sandbox: str = "auto", parts: Path | None = None,
        course: Course | None = None) -> Feedback:
    """Grade ``shared/submission/`` and write ``shared/feedback.json`` and ``shared/htmlFeedback.html``.

    Never raises for a bad submission or a broken grader: either way the files are written.
    """
    from grader.grading.warm import Warm
    from grader.sandbox.launch import choose

    shared = Path(shared)
    try:
        course = course or Course()
        exercise = course.exercise(exercise_for(part_id, course, parts))
        chosen = choose(sandbox)
        if not chosen.confines:
            print("warning: grading WITHOUT a sandbox (--sandbox none)", file=sys.stderr)
        # Started first: their imports overlap the rest of this start-up.
        with Warm.started(course, chosen, [exercise]) as warm, \
                tempfile.TemporaryDirectory(prefix="hml-coursera-") as scratch:
            from grader.grading.run import grade_one

            result = grade_one(exercise, submitted(shared / "submission"), "submission",
                               Path(scratch) / "results.json", course=course, sandbox=chosen, warm=warm)
            if result.grader_failure:
                print(f"grader error: {result.grader_failure}", file=sys.stderr)
        feedback = feedback_for(result, exercise.title)
    except Exception:  # noqa: BLE001 - the learner gets a message whatever broke
        traceback.print_exc(file=sys.stderr)
        feedback = failure_feedback()
    write(shared, feedback)
    return feedback


def feedback_for(result: GradeResult, title: str = "Feedback") -> Feedback:
    """What Coursera reads for ``result``: a score in 0..1 and the learner view, under 64 KB."""
    if result.outcome is Outcome.GRADER_ERROR:
        return failure_feedback(title, result)
    budget = MAX_FEEDBACK_BYTES - 1024  # room for feedback.json's other fields
    for limit in MESSAGE_LIMITS:
        text = _as_html(learner_view.summary(result, limit))
        html = render_html(result, title, limit)
        if _json_bytes(text) <= budget and len(html.encode()) <= MAX_FEEDBACK_BYTES:
            break
    else:  # a result with very many tests: cut the plain text, keep the page's rows without messages
        text = _cut_to_fit(learner_view.summary(result, 0), budget)
    fraction = 0.0 if result.outcome is Outcome.REFUSED or not result.max_score else \
        min(1.0, max(0.0, result.score / result.max_score))
    data = {"fractionalScore": round(fraction, 6), "feedback": text, "feedbackType": "HTML"}
    return Feedback(data, html, True, result)


def failure_feedback(title: str = "Feedback", result: GradeResult | None = None) -> Feedback:
    """No ``fractionalScore``: Coursera records a failed grading, not a 0."""
    message = learner_view.GRADER_FAILURE
    html = bundle.render("coursera/feedback.html.j2", title=title, headline=message, rows=[], shortened=False,
                         limit_kb=MAX_FEEDBACK_BYTES // 1024)
    # The grader's own words, with nothing in them HTML would read as markup: they are their own HTML.
    return Feedback({"feedback": message, "feedbackType": "HTML"}, html, False, result)


def _as_html(text: str) -> str:
    """Plain text as the HTML ``feedbackType: HTML`` promises: escaped (a learner's ``<script>`` shows as
    text), its lines kept."""
    return f"<pre>{html_text.escape(text, quote=False)}</pre>"


def _cut_to_fit(text: str, budget: int) -> str:
    """``_as_html(text)``, cut with a note so that it takes at most ``budget`` bytes in feedback.json.

    Escaping (HTML's, then JSON's) lengthens text by an amount the learner's characters decide, so the
    cut is searched for on the escaped result, never made inside an escape.
    """
    note = "\n… (cut to fit 64 KB)"
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _json_bytes(_as_html(text[:middle] + note)) <= budget:
            low = middle
        else:
            high = middle - 1
    return _as_html(text[:low] + note)


def _json_bytes(text: str) -> int:
    """What ``text`` takes in feedback.json, where every non-ASCII character is a \\u escape."""
    return len(json.dumps(text))


def render_html(result: GradeResult, title: str, limit: int | None) -> str:
    rows = learner_view.rows(result)
    shortened = any(r.message and len(r.message) > (limit or 0) for r in rows) if limit is not None else False
    if limit is not None:
        rows = [replace(r, message=r.message if len(r.message) <= limit else r.message[:limit] + "…")
                if limit else replace(r, message="") for r in rows]
    return bundle.render("coursera/feedback.html.j2", title=title, headline=learner_view.headline(result),
                         rows=[] if result.outcome is Outcome.REFUSED else rows, shortened=shortened,
                         limit_kb=MAX_FEEDBACK_BYTES // 1024)


def write(shared: Path, feedback: Feedback) -> None:
    shared.mkdir(parents=True, exist_ok=True)
    for name, text in ((HTML_FEEDBACK, feedback.html), (FEEDBACK, json.dumps(feedback.data))):
        temporary = shared / f".{name}.tmp"
        temporary.write_text(text)
        temporary.replace(shared / name)
