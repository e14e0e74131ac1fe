"""From a gradebook to a static report: numbers here, markup in ``templates/``.

``write_report(gradebook, out_dir)`` writes ``index.html`` (the class
overview, for instructors), ``learners/<learner>.html`` (one page per
learner, fit to hand to that learner: hidden tests show pass or fail only),
``grades.csv``, and with ``junit=True`` ``junit/<learner>/<exercise>.xml``.
"""
from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.gradebook import TIMEOUT_PATTERN, Gradebook, Run

TEMPLATES = Path(__file__).with_name("templates")
HIDDEN_FEEDBACK = "Hidden test: only whether it passed is shown."
ERROR_FEEDBACK = ("The grader could not finish grading this submission. This is not a mark against you: "
                  "your instructor has the details.")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


def slug(name: str) -> str:
    """A file name for a learner: the name itself when it is plain, else a readable part and a digest."""
    if _SAFE_NAME.match(name):
        return name
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:40] or "learner"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _first_line(text: str | None, limit: int = 200) -> str:
    for line in (text or "").strip().splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def _pct(score: float, maximum: float) -> float:
    return 100.0 * score / maximum if maximum else 0.0


@dataclass
class Bar:
    label: str
    value: float
    text: str
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Chart:
    """A vertical bar chart, laid out for an inline SVG."""

    title: str
    bars: list[Bar]
    width: int = 560
    height: int = 220
    top: int = 24
    bottom: int = 36
    left: int = 36
    y_max: float = 1.0
    y_label: str = ""
    ticks: list[tuple[float, str]] = field(default_factory=list)

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom


def bar_chart(title: str, labelled: list[tuple[str, float, str]], *, y_max: float | None = None,
              y_label: str = "", width: int = 560) -> Chart:
    chart = Chart(title, [Bar(label, value, text) for label, value, text in labelled], width=width, y_label=y_label)
    chart.y_max = y_max or max([b.value for b in chart.bars] + [1.0])
    slot = (chart.width - chart.left - 8) / max(len(chart.bars), 1)
    for i, bar in enumerate(chart.bars):
        bar.width = slot * 0.78
        bar.x = chart.left + i * slot + slot * 0.11
        bar.height = chart.plot_height * (bar.value / chart.y_max if chart.y_max else 0)
        bar.y = chart.top + chart.plot_height - bar.height
    steps = 4
    chart.ticks = [(chart.top + chart.plot_height * (1 - k / steps), f"{chart.y_max * k / steps:g}")
                   for k in range(steps + 1)]
    return chart


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

    @property
    def pct(self) -> float:
        return _pct(self.total, self.maximum)


def class_overview(runs: list[Run]) -> dict:
    """Everything the overview page shows, from each learner's latest runs."""
    exercises = sorted({r.exercise for r in runs})
    maxima = {e: max((r.max_score for r in runs if r.exercise == e), default=0.0) for e in exercises}
    course_max = sum(maxima.values())
    by_learner: dict[str, dict[str, Run]] = defaultdict(dict)
    for run in runs:
        by_learner[run.learner][run.exercise] = run
    learners = [LearnerView(name, slug(name), own, round(sum(r.score for r in own.values()), 6), course_max)
                for name, own in sorted(by_learner.items())]

    bins = [0] * 10
    for learner in learners:
        bins[min(int(learner.pct // 10), 9)] += 1
    distribution = bar_chart("Learners by total score",
                             [(f"{10 * i}–{10 * i + 10}", n, str(n)) for i, n in enumerate(bins)],
                             y_label="learners")

    per_exercise = []
    for exercise in exercises:
        own = [r for r in runs if r.exercise == exercise]
        graded = [r for r in own if r.status == "graded"]
        mean = sum(r.score for r in own) / len(own) if own else 0.0
        per_exercise.append({
            "exercise": exercise, "submissions": len(own), "mean": mean, "max": maxima[exercise],
            "mean_pct": _pct(mean, maxima[exercise]),
            "full": sum(1 for r in graded if r.max_score and r.score == r.max_score),
            "refused": sum(1 for r in own if r.status == "refused"),
            "errors": sum(1 for r in own if r.status == "error"),
            "mean_time": sum(r.execution_time for r in own) / len(own) if own else 0.0,
        })
    exercise_chart = bar_chart("Mean score per exercise (% of its points)",
                               [(e["exercise"], e["mean_pct"], f"{e['mean_pct']:.0f}%") for e in per_exercise],
                               y_max=100.0, y_label="%")

    stats: dict[tuple[str, str], TestStat] = {}
    failures: Counter = Counter()
    failure_tests: dict[tuple[str, str], set[str]] = defaultdict(set)
    for run in runs:
        if run.status != "graded":
            continue  # a refused or broken submission says nothing about a test's difficulty
        for test in run.tests:
            stat = stats.setdefault((run.exercise, test.nodeid),
                                    TestStat(run.exercise, test.name, test.visibility, test.max_score))
            stat.total += 1
            stat.passed += test.passed
            if not test.passed:
                message = _first_line(test.output) or "(no message)"
                failures[(run.exercise, message)] += 1
                failure_tests[(run.exercise, message)].add(test.name)
    test_stats = sorted(stats.values(), key=lambda s: (s.rate, s.exercise, s.name))
    common_failures = [{"exercise": e, "message": m, "count": n, "tests": sorted(failure_tests[(e, m)])}
                       for (e, m), n in failures.most_common(15)]

    timeouts = []
    for run in runs:
        if run.timeouts:
            names = [t.name for t in run.tests if not t.passed and TIMEOUT_PATTERN.search(t.output or "")]
            timeouts.append({"learner": run.learner, "slug": slug(run.learner), "exercise": run.exercise,
                             "count": run.timeouts, "tests": names or ["(the whole grading)"]})
    refusals = [{"learner": r.learner, "slug": slug(r.learner), "exercise": r.exercise, "reason": r.refused}
                for r in runs if r.status == "refused"]
    errors = [{"learner": r.learner, "slug": slug(r.learner), "exercise": r.exercise,
               "reason": _first_line(r.error, 300)} for r in runs if r.status == "error"]
    slowest = sorted(runs, key=lambda r: -r.execution_time)[:10]

    return {
        "exercises": exercises, "maxima": maxima, "course_max": course_max, "learners": learners,
        "distribution": distribution, "per_exercise": per_exercise, "exercise_chart": exercise_chart,
        "test_stats": test_stats, "common_failures": common_failures, "timeouts": timeouts,
        "refusals": refusals, "errors": errors,
        "slowest": [{"learner": r.learner, "slug": slug(r.learner), "exercise": r.exercise,
                     "seconds": r.execution_time, "status": r.status} for r in slowest],
        "mean_pct": sum(l.pct for l in learners) / len(learners) if learners else 0.0,
        "submissions": len(runs),
    }


def learner_feedback(run: Run) -> list[dict]:
    """The tests of one run as a learner may see them: hidden tests, pass or fail only."""
    rows = []
    for test in run.tests:
        visible = test.visibility == "visible"
        rows.append({"name": test.name, "score": test.score, "max_score": test.max_score, "passed": test.passed,
                     "visible": visible,
                     "output": test.output if visible and not test.passed else "",
                     "note": "" if visible else HIDDEN_FEEDBACK})
    return rows


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = lambda value: f"{value:g}"
    env.filters["pct"] = lambda value: f"{value:.0f}%"
    env.filters["seconds"] = lambda value: f"{value:.1f} s"
    return env


def write_report(book: Gradebook, out_dir: Path, *, junit: bool = False, title: str = "Grading report") -> Path:
    """Write the whole report; return the path of ``index.html``."""
    out_dir = Path(out_dir)
    (out_dir / "learners").mkdir(parents=True, exist_ok=True)
    runs = book.latest()
    env = _environment()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    overview = class_overview(runs)
    common = {"title": title, "generated": generated, "css": (TEMPLATES / "report.css").read_text()}
    _write(out_dir / "index.html", env.get_template("index.html.j2").render(**common, **overview, root=""))
    for learner in overview["learners"]:
        sections = []
        for exercise in overview["exercises"]:
            run = learner.runs.get(exercise)
            sections.append({"exercise": exercise, "max": overview["maxima"][exercise], "run": run,
                             "tests": learner_feedback(run) if run else [],
                             "error": ERROR_FEEDBACK if run is not None and run.status == "error" else ""})
        html = env.get_template("learner.html.j2").render(**common, learner=learner, sections=sections,
                                                          course_max=overview["course_max"], root="../")
        _write(out_dir / "learners" / f"{learner.slug}.html", html)
    _write(out_dir / "grades.csv", book.export_csv())
    if junit:
        for run in runs:
            _write(out_dir / "junit" / slug(run.learner) / f"{run.exercise}.xml", junit_xml(run))
    return out_dir / "index.html"


def junit_xml(run: Run) -> str:
    """One submission as JUnit XML; hidden tests carry no message beyond pass or fail."""
    failures = sum(1 for t in run.tests if not t.passed)
    suites = ET.Element("testsuites", name=f"{run.learner} {run.exercise}")
    suite = ET.SubElement(suites, "testsuite", name=run.exercise, tests=str(len(run.tests)),
                          failures=str(failures), errors=str(int(run.status == "error")), skipped="0",
                          time=f"{run.execution_time:.3f}", timestamp=run.graded_at)
    properties = ET.SubElement(suite, "properties")
    for key, value in (("learner", run.learner), ("score", f"{run.score:g}"), ("max_score", f"{run.max_score:g}"),
                       ("status", run.status), ("content_hash", run.content_hash)):
        ET.SubElement(properties, "property", name=key, value=value)
    if run.refused:
        ET.SubElement(properties, "property", name="refused", value=run.refused)
    for test in run.tests:
        case = ET.SubElement(suite, "testcase", classname=f"{run.exercise}.{slug(run.learner)}", name=test.name,
                             time=f"{test.duration:.3f}")
        if not test.passed:
            visible = test.visibility == "visible"
            message = _first_line(test.output) if visible else "hidden test failed"
            failure = ET.SubElement(case, "failure", message=message or "failed",
                                    type="hidden" if not visible else "AssertionError")
            if visible:
                failure.text = test.output
    if run.status == "error":
        ET.SubElement(ET.SubElement(suite, "testcase", classname=run.exercise, name="grading"), "error",
                      message="the grader could not finish grading this submission")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
