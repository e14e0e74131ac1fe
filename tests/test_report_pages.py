"""The report's pages as a browser lays them out: a nine-exercise class in headless Chromium at 1400 px.

The gradebook is built from synthetic GradeResults recorded through
``Gradebook.record`` (grading nine exercises for real would take minutes);
the pages are the ones ``write_report`` writes. A copy of each page gets a
small script that measures the layout and writes it into the DOM, which
``chromium --dump-dom`` prints.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.course.assignment import assignment
from grader.record.gradebook import Gradebook
from grader.record.kinds import Kind
from grader.record.report.render import write_report
from grader.record.results import GradeResult
from grader.record.results import TestResult as Outcome  # not collected as a test class

MEASURE = """
<script>
const rects = e => e.getBoundingClientRect();
const overlap = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
const charts = [...document.querySelectorAll("svg")].map(svg => {
  const box = rects(svg);
  const texts = [...svg.querySelectorAll("text")];
  const clashes = [];
  texts.forEach((a, i) => texts.slice(i + 1).forEach(b => { if (overlap(rects(a), rects(b))) clashes.push([a.textContent, b.textContent]); }));
  const outside = texts.filter(t => { const r = rects(t); return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5; }).map(t => t.textContent);
  return {title: svg.getAttribute("aria-label"), bars: svg.querySelectorAll("rect.bar").length,
          values: [...svg.querySelectorAll("text.value")].map(t => t.textContent),
          labels: [...svg.querySelectorAll("text.label")].map(t => t.textContent),
          ticks: [...svg.querySelectorAll("text.tick")].map(t => t.textContent), clashes, outside};
});
const wide = [...document.querySelectorAll(".wide")].map(w => [w.scrollWidth, w.clientWidth]);
const out = document.createElement("pre");
out.id = "measured";
out.textContent = JSON.stringify({scrollWidth: document.documentElement.scrollWidth,
                                  clientWidth: document.documentElement.clientWidth, charts, wide});
document.body.appendChild(out);
</script>
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    return found


def _browse(page: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1400,900", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _measure(page: Path) -> dict:
    probe = page.with_name(f"measure-{page.name}")
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = _browse(probe, "--virtual-time-budget=2000", "--dump-dom").stdout
    assert 'id="measured"' in dom, dom[-2000:]
    import html

    return json.loads(html.unescape(dom.split('<pre id="measured">')[1].split("</pre>")[0]))


def _result(exercise: str, fraction: float, points: float, kind: Kind = Kind.FAILED) -> GradeResult:
    count = 6
    each = points / count
    passed = round(fraction * count)
    tests = [Outcome(f"{exercise} check {i}: a test name long enough to wrap in the table", f"hidden::t{i}::00",
                     each if i < passed else 0.0, each, "passed" if i < passed else "failed",
                     "hidden" if i % 2 else "visible", "" if i < passed else f"expected another value ({i})",
                     0.2, Kind.PASSED if i < passed else kind) for i in range(count)]
    return GradeResult("s", exercise, tests, execution_time=3.0)


@pytest.fixture(scope="module")
def report(tmp_path_factory, course):
    out = tmp_path_factory.mktemp("report")
    chosen = assignment(course)
    assert len(chosen.exercises) == 9
    learners = [f"learner_{i:02d}" for i in range(14)] + ["a-learner-with-a-rather-long-name@example.org"]
    with Gradebook(out / "gradebook.sqlite") as book:
        for n, learner in enumerate(learners):
            for k, exercise in enumerate(chosen.exercises):
                if exercise == "tflite_quantize":
                    continue  # nobody submitted it: its bar is 0%
                fraction = ((n * 7 + k * 3) % 10) / 9 if n % 5 else 1.0
                kind = Kind.TIMEOUT if (n + k) % 11 == 0 else Kind.FAILED
                book.record(learner, _result(exercise, min(fraction, 1.0), chosen.maxima[exercise], kind),
                            submission="s", content_hash=f"{n}-{k}", suite_hash="h")
        write_report(book, out / "report", assignment=chosen)
    return {"dir": out / "report", "assignment": chosen}


def test_overview_fits_1400px_and_every_chart_is_labelled(report):
    """At 1400 px the overview scrolls no sideways (nor does any table in it); each chart has a value label
    per bar, 0% included, one label per exercise, whole-learner ticks, and no two labels overlap."""
    measured = _measure(report["dir"] / "index.html")
    assert measured["scrollWidth"] <= measured["clientWidth"] <= 1400, measured
    assert all(scroll <= client for scroll, client in measured["wide"]), measured["wide"]
    histogram, exercises = measured["charts"]
    for chart in (histogram, exercises):
        assert chart["bars"] == len(chart["values"]) == len(chart["labels"]) and all(chart["values"]), chart
        assert not chart["clashes"] and not chart["outside"], chart
    assert len(exercises["labels"]) == 9 and "0%" in exercises["values"]
    assert all(float(tick) == int(float(tick)) for tick in histogram["ticks"]), histogram["ticks"]
    assert sum(int(v) for v in histogram["values"]) == 15


def test_learner_page_fits_1400px(report):
    """A learner's page of nine exercises scrolls no sideways at 1400 px either."""
    page = next((report["dir"] / "learners").glob("a-learner*.html"))
    measured = _measure(page)
    assert measured["scrollWidth"] <= measured["clientWidth"] <= 1400, measured


def test_screenshots_for_review(report):
    """The overview and a learner page render to PNG screenshots (kept beside the report for a person to look at)."""
    for page in (report["dir"] / "index.html", report["dir"] / "learners" / "learner_01.html"):
        shot = page.with_suffix(".png")
        _browse(page, f"--screenshot={shot}")
        assert shot.is_file() and shot.stat().st_size > 10_000
