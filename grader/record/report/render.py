"""From a gradebook to a static report: numbers here, markup in ``templates/``.

``write_report(gradebook, out_dir)`` writes ``index.html`` (the class
overview, for instructors), ``learners/<learner>.html`` (one page per
learner, named by ``page_names`` so that no two learners share one,
fit to hand to that learner: it links nowhere, and shows what
``grader.record.learner_view`` allows), ``grades.csv``, and with ``junit=True``
``junit/<learner>/<exercise>.xml``. Only the assignment's exercises are
shown, and its points are every total's maximum (``grader.course.assignment``).
"""
from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import markupsafe

from grader.course.assignment import Assignment, or_whole_course
from grader.learner_text import shorten
from grader.record.exports import export_csv
from grader.record.final_grades import FinalGrade, final_grades
from grader.record.gradebook import Gradebook, Run
from grader.record.kinds import Kind, Outcome
from grader.record.learner_view import learner_view
from grader.record.regrades import regrade_diffs
from grader.record.report.charts import column_chart, row_chart

TEMPLATES = Path(__file__).with_name("templates")
ERROR_FEEDBACK = ("The grader could not finish grading this submission. This is not a mark against you: "
                  "your instructor has the details.")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


def _page_name(name: str, form: int) -> str:
    """Form 0: the name itself; 1: a readable part and a short digest of the exact name; 2: the whole digest."""
    if form == 0:
        return name
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:40] or "learner"
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{readable}-{digest[:8] if form == 1 else digest}"


def page_names(learners: Iterable[str]) -> dict[str, str]:
    """A file name for each learner's page (and JUnit folder): never another learner's, case aside.

    A plain name is its own page name, any other a readable part and a digest. Names that would share a
    file on a case-insensitive disk (``Bob`` and ``bob``; a folder named ``lise-d0f9b0b2`` and the digested
    name of ``élise``) all take the next, longer form, until none do: the same class always gets the same
    names, whoever was graded first.
    """
    forms = {learner: 0 if _SAFE_NAME.match(learner) else 1 for learner in set(learners)}
    while True:
        names = {learner: _page_name(learner, form) for learner, form in forms.items()}
        holders: dict[str, list[str]] = defaultdict(list)
        for learner, name in names.items():
            holders[name.casefold()].append(learner)
        longer = [learner for group in holders.values() if len(group) > 1 for learner in group if forms[learner] < 2]
        if not longer:  # whole SHA-256 digests do not meet
            return names
        for learner in longer:
            forms[learner] += 1


def _first_line(text: str | None, limit: int = 200) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return shorten(line.strip(), limit)
    return ""


def _pct(score: float, maximum: float) -> float:
    return 100.0 * score / maximum if maximum else 0.0


@dataclass
class TestStat:
    exercise: str
    name: str
    visibility: str
    points: float
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class LearnerView:
    name: str
    slug: str
    runs: dict[str, Run]
    total: float
    maximum: float
    finals: dict[str, FinalGrade]  # exercise -> the grade as the course counts it

    @property
    def pct(self) -> float:
        return _pct(self.total, self.maximum)


def _timed_out(run: Run) -> list[str]:
    return [t.name for t in run.tests if t.kind is Kind.TIMEOUT]


def common_failures(runs: list[Run], limit: int = 15) -> list[dict]:
    """Failure messages by how many submissions met them (a message failing 20 tests of one submission counts once)."""
    submissions: dict[tuple[str, str], set[int]] = defaultdict(set)
    tests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for run in runs:
        if run.outcome is not Outcome.GRADED:
            continue  # a refused or broken submission says nothing about a test's difficulty
        for test in run.tests:
            if not test.passed:
                key = (run.exercise, _first_line(test.output) or "(no message)")
                submissions[key].add(run.id)
                tests[key].add(test.name)
    ranked = sorted(submissions, key=lambda key: (-len(submissions[key]), key))
    return [{"exercise": e, "message": m, "count": len(submissions[(e, m)]), "tests": sorted(tests[(e, m)])}
            for e, m in ranked[:limit]]


def class_overview(runs: list[Run], assignment: Assignment, finals: list[FinalGrade] | None = None) -> dict:
    """Everything the overview page shows, from each learner's latest runs of the assigned exercises.

    ``finals``: their final grades (late policy, rubric, overrides), which totals count; without them, the runs'.
    """
    runs = [r for r in runs if r.exercise in assignment]
    final: dict[tuple[str, str], FinalGrade] = {(g.learner, g.exercise): g for g in finals or ()}

    def points(run: Run) -> float:
        grade = final.get((run.learner, run.exercise))
        return run.score if grade is None else grade.final or 0.0

    exercises, maxima, course_max = assignment.exercises, assignment.maxima, assignment.total
    by_learner: dict[str, dict[str, Run]] = defaultdict(dict)
    for run in runs:
        by_learner[run.learner][run.exercise] = run
    pages = page_names(by_learner)
    learners = [LearnerView(name, pages[name], own, round(sum(points(r) for r in own.values()), 6), course_max,
                            {e: final[name, e] for e in own if (name, e) in final})
                for name, own in sorted(by_learner.items())]

    bins = [0] * 10
    for learner in learners:
        bins[min(int(learner.pct // 10), 9)] += 1
    distribution = column_chart("Learners by total score (%)",
                                [(f"{10 * i}–{10 * i + 10}", n, str(n)) for i, n in enumerate(bins)],
                                y_label="learners", counts=True)

    per_exercise = []
    for exercise in exercises:
        own = [r for r in runs if r.exercise == exercise]
        graded = [r for r in own if r.outcome is Outcome.GRADED]
        mean = sum(points(r) for r in own) / len(own) if own else 0.0
        per_exercise.append({
            "exercise": exercise, "submissions": len(own), "mean": mean, "max": maxima[exercise],
            "mean_pct": _pct(mean, maxima[exercise]),
            "full": sum(1 for r in graded if points(r) == maxima[exercise]),
            "refused": sum(1 for r in own if r.outcome is Outcome.REFUSED),
            "errors": sum(1 for r in own if r.outcome is Outcome.GRADER_ERROR),
            "timeouts": sum(1 for r in own if r.timeouts),
            "mean_time": sum(r.execution_time for r in own) / len(own) if own else 0.0,
        })
    exercise_chart = row_chart("Mean score per exercise (% of its points)",
                               [(e["exercise"], e["mean_pct"], f"{e['mean_pct']:.0f}%") for e in per_exercise],
                               x_max=100.0)

    stats: dict[tuple[str, str], TestStat] = {}
    for run in runs:
        if run.outcome is not Outcome.GRADED:
            continue
        for test in run.tests:
            stat = stats.setdefault((run.exercise, test.nodeid),
                                    TestStat(run.exercise, test.name, test.visibility, test.max_score))
            stat.total += 1
            stat.passed += test.passed
    test_stats = sorted(stats.values(), key=lambda s: (s.rate, s.exercise, s.name))

    timeouts = [{"learner": r.learner, "slug": pages[r.learner], "exercise": r.exercise, "count": r.timeouts,
                 "tests": _timed_out(r) or ["(the whole grading)"]} for r in runs if r.timeouts]
    refusals = [{"learner": r.learner, "slug": pages[r.learner], "exercise": r.exercise, "reason": r.refused}
                for r in runs if r.outcome is Outcome.REFUSED]
    errors = [{"learner": r.learner, "slug": pages[r.learner], "exercise": r.exercise,
               "reason": _first_line(r.grader_failure, 300)} for r in runs
              if r.outcome is Outcome.GRADER_ERROR]
    slowest = sorted(runs, key=lambda r: -r.execution_time)[:10]

    return {
        "exercises": exercises, "maxima": maxima, "course_max": course_max, "learners": learners,
        "distribution": distribution, "per_exercise": per_exercise, "exercise_chart": exercise_chart,
        "test_stats": test_stats, "common_failures": common_failures(runs), "timeouts": timeouts,
        "timed_out_tests": sum(r.timeouts for r in runs), "refusals": refusals, "errors": errors,
        "slowest": [{"learner": r.learner, "slug": pages[r.learner], "exercise": r.exercise,
                     "seconds": r.execution_time, "status": r.outcome.value} for r in slowest],
        "mean_pct": sum(l.pct for l in learners) / len(learners) if learners else 0.0, "pages": pages,
        "submissions": len(runs),
    }


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = lambda value: f"{round(value, 2):g}"
    env.filters["pct"] = lambda value: f"{value:.0f}%"
    env.filters["seconds"] = lambda value: f"{value:.1f} s"
    # Long identifiers (exercise ids) may wrap after their underscores, so wide tables still fit.
    env.filters["breakable"] = lambda text: markupsafe.Markup("_<wbr>").join(
        markupsafe.escape(part) for part in str(text).split("_"))
    return env


def write_report(book: Gradebook, out_dir: Path, *, assignment: Assignment | None = None, junit: bool = False,
                 title: str = "Grading report") -> Path:
    """Write the whole report; return the path of ``index.html``.

    ``assignment``: the exercises that count (default: every exercise of the course).
    """
    out_dir = Path(out_dir)
    assignment = or_whole_course(assignment)
    finals = final_grades(book, assignment)  # before any folder is made: an assignment it refuses leaves none
    (out_dir / "learners").mkdir(parents=True, exist_ok=True)
    runs = [grade.run for grade in finals]  # each assigned latest run has its final grade: read the gradebook once
    env = _environment()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    overview = class_overview(runs, assignment, finals)
    overview["regrades"] = [d for d in regrade_diffs(book) if d.changed and d.exercise in assignment]
    overview["stale"] = [adjustment for grade in finals for adjustment in grade.stale]
    common = {"title": title, "generated": generated, "css": (TEMPLATES / "report.css").read_text()}
    _write(out_dir / "index.html", env.get_template("index.html.j2").render(**common, **overview))
    for learner in overview["learners"]:
        sections = []
        for exercise in overview["exercises"]:
            run = learner.runs.get(exercise)
            sections.append({"exercise": exercise, "max": overview["maxima"][exercise], "run": run,
                             "grade": learner.finals.get(exercise),
                             "tests": learner_view(run) if run else [],
                             "error": ERROR_FEEDBACK if run is not None and run.outcome is Outcome.GRADER_ERROR
                             else ""})
        html = env.get_template("learner.html.j2").render(**common, learner=learner, sections=sections,
                                                          course_max=overview["course_max"])
        _write(out_dir / "learners" / f"{learner.slug}.html", html)
    _remove_stale_pages(out_dir / "learners", {f"{learner.slug}.html" for learner in overview["learners"]})
    _write(out_dir / "grades.csv", export_csv(book, assignment, finals))
    if junit:
        for run in runs:
            page = overview["pages"][run.learner]
            _write(out_dir / "junit" / page / f"{run.exercise}.xml", junit_xml(run, page))
    return out_dir / "index.html"


def _remove_stale_pages(folder: Path, written: set[str]) -> None:
    """A page an earlier report wrote for someone this one does not show (another assignment, a renamed
    folder) would be handed out with old grades: the folder holds this report's pages only."""
    for page in folder.glob("*.html"):
        if page.name not in written and page.is_file() and not page.is_symlink():
            page.unlink()


def junit_xml(run: Run, page: str | None = None) -> str:
    """One submission as JUnit XML; hidden tests carry no message beyond pass or fail.

    ``page``: the learner's page name in the whole class (``page_names``), which test class names carry.
    """
    page = page or page_names([run.learner])[run.learner]
    failures = sum(1 for t in run.tests if not t.passed)
    suites = ET.Element("testsuites", name=f"{run.learner} {run.exercise}")
    suite = ET.SubElement(suites, "testsuite", name=run.exercise, tests=str(len(run.tests)),
                          failures=str(failures), errors=str(int(run.outcome is Outcome.GRADER_ERROR)), skipped="0",
                          time=f"{run.execution_time:.3f}", timestamp=run.graded_at)
    properties = ET.SubElement(suite, "properties")
    for key, value in (("learner", run.learner), ("score", f"{run.score:g}"), ("max_score", f"{run.max_score:g}"),
                       ("status", run.outcome.value), ("content_hash", run.content_hash)):
        ET.SubElement(properties, "property", name=key, value=value)
    if run.refused:
        ET.SubElement(properties, "property", name="refused", value=run.refused)
    for test in run.tests:
        case = ET.SubElement(suite, "testcase", classname=f"{run.exercise}.{page}", name=test.name,
                             time=f"{test.duration:.3f}")
        if not test.passed:
            visible = test.public
            message = _first_line(test.output) if visible else "hidden test failed"
            failure = ET.SubElement(case, "failure", message=message or "failed",
                                    type="hidden" if not visible else "AssertionError")
            if visible:
                failure.text = test.output
    if run.outcome is Outcome.GRADER_ERROR:
        ET.SubElement(ET.SubElement(suite, "testcase", classname=run.exercise, name="grading"), "error",
                      message="the grader could not finish grading this submission")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
