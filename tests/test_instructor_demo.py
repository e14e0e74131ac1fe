"""The main demo: `hml grade-course examples/submissions` then `hml report` produce the class report.

The example class (examples/submissions) has six learners: complete, partial,
broken, notebooks, a zip, and a hostile one. These tests grade it once, with
two jobs, and check what an instructor and each learner would get.
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLASS = ROOT / "examples" / "submissions"
HML = [sys.executable, "-m", "grader.cli"]
LEARNERS = ["ada", "ben", "chen", "dana", "eli", "fay"]
# The exercises the example class was set: the report counts these, at their full points.
ASSIGNED = ("-e", "hybrid_placement", "-e", "kfp_basic_pipeline", "-e", "kfp_training_pipeline")


def _hml(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sandboxed):
    out = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    graded = _hml("grade-course", str(CLASS), "--jobs", "2", "--output-dir", str(out))
    elapsed = time.monotonic() - started
    assert graded.returncode == 0, graded.stdout + graded.stderr
    report = _hml("report", "--output-dir", str(out), "--junit", *ASSIGNED)
    assert report.returncode == 0, report.stdout + report.stderr
    results = {(p.parent.parent.name, p.parent.name): json.loads(p.read_text())
               for p in out.glob("*/*/results.json")}
    return {"out": out, "graded": graded, "report": report, "results": results, "elapsed": elapsed,
            "index": (out / "report" / "index.html").read_text()}


def _score(demo, learner, exercise):
    data = demo["results"][(learner, exercise)]
    return data["score"], data["extra_data"]["max_score"]


def test_every_submission_graded_as_its_kind_deserves(demo):
    """Complete work earns full marks, partial work some, broken and hostile work none, a zip-slip is refused."""
    assert len(demo["results"]) == 14
    for exercise in ("hybrid_placement", "kfp_basic_pipeline", "kfp_training_pipeline"):
        score, maximum = _score(demo, "ada", exercise)
        assert score == maximum > 0, f"ada/{exercise}: {score}/{maximum}"
    for exercise in ("hybrid_placement", "kfp_basic_pipeline", "kfp_training_pipeline"):
        score, maximum = _score(demo, "ben", exercise)
        assert 0 < score < maximum, f"ben/{exercise}: {score}/{maximum}"
    assert _score(demo, "dana", "hybrid_placement")[0] == _score(demo, "dana", "hybrid_placement")[1]  # notebook
    assert 0 < _score(demo, "dana", "kfp_basic_pipeline")[0] < _score(demo, "dana", "kfp_basic_pipeline")[1]
    assert _score(demo, "eli", "hybrid_placement")[0] == 31  # a zip
    assert _score(demo, "eli", "kfp_basic_pipeline")[0] == 20  # a notebook inside a folder
    chen = demo["results"][("chen", "hybrid_placement")]
    public = [t for t in chen["tests"] if t["visibility"] == "visible"]
    assert chen["score"] == 0 and public and all("line 5" in t["output"] and "SyntaxError" in t["output"]
                                                 for t in public)
    # Hidden tests say so in a fixed sentence (the import error is the learner's own text).
    assert all("could not be imported" in t["output"] for t in chen["tests"] if t["visibility"] != "visible")
    fay = demo["results"][("fay", "hybrid_placement")]
    assert fay["score"] == 0 and fay["tests"]
    refused = demo["results"][("fay", "kfp_basic_pipeline")]
    assert "outside" in (refused["extra_data"]["refused"] or "")


def test_hostile_learner_changes_nothing_outside_its_results(demo):
    """The hostile submission's writes and forged output reach neither the output folder nor its score."""
    out = demo["out"]
    allowed = {"gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm"}
    for path in out.rglob("*"):
        relative = path.relative_to(out).as_posix()
        if path.is_dir() or relative in allowed or relative.startswith(("report/", ".cache/")):
            continue
        assert re.fullmatch(r"[a-z]+/[a-z_]+/results\.json", relative), f"unexpected file {relative}"
    fay = demo["results"][("fay", "hybrid_placement")]
    assert any("did not finish within" in t["output"] for t in fay["tests"]), "the endless loop was stopped"
    # Visible tests name the exit; hidden ones report a crash in one fixed sentence.
    assert any("os._exit" in t["output"] or "stopped during this test" in t["output"] for t in fay["tests"]), (
        "the exit during a call is reported")


def test_report_overview_is_offline_and_complete(demo):
    """index.html names every learner, has inline SVG charts and CSS, and fetches nothing."""
    index = demo["index"]
    assert "Class overview" in index.title() or "class overview" in index
    for learner in LEARNERS:
        assert f'href="learners/{learner}.html"' in index
        assert (demo["out"] / "report" / "learners" / f"{learner}.html").is_file()
    assert index.count("<svg") >= 2 and "<style>" in index
    for section in ("Tests, hardest first", "Most common failure messages", "Timeouts", "Refused submissions",
                    "Slowest submissions", "Mean score per exercise"):
        assert section in index, section
    pages = [index] + [p.read_text() for p in (demo["out"] / "report" / "learners").glob("*.html")]
    for page in pages:
        assert "<script" not in page, "a learner's text reached the page unescaped"
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the report fetches something"
        assert "<link" not in page
    assert "&lt;script&gt;" in (demo["out"] / "report" / "learners" / "fay.html").read_text()


def test_learner_pages_never_show_hidden_test_output(demo):
    """A learner's page shows visible tests' messages, and of hidden tests only pass or fail."""
    checked = 0
    for (learner, exercise), data in demo["results"].items():
        page = (demo["out"] / "report" / "learners" / f"{learner}.html").read_text()
        for test in data["tests"]:
            if test["visibility"] != "visible" and test["status"] == "failed" and len(test["output"]) > 20:
                message = test["output"].splitlines()[0]
                assert html.escape(message) not in page and message not in page, (learner, exercise, message)
                checked += 1
    assert checked >= 10, "the class must hold failing hidden tests with messages for this check to mean anything"
    ben = html.unescape((demo["out"] / "report" / "learners" / "ben.html").read_text())
    visible = demo["results"][("ben", "hybrid_placement")]["tests"]
    shown = [t["output"] for t in visible if t["visibility"] == "visible" and t["status"] == "failed"]
    assert shown and all(message.strip() in ben for message in shown), "visible tests' messages are shown"


def test_grades_csv_and_junit_beside_the_report(demo):
    """grades.csv has a row per learner and a column per exercise; JUnit XML parses, one file per submission."""
    rows = list(csv.DictReader((demo["out"] / "report" / "grades.csv").open()))
    assert [r["student_id"] for r in rows] == LEARNERS
    assert list(rows[0]) == ["student_id", "hybrid_placement", "kfp_basic_pipeline", "kfp_training_pipeline",
                             "raw_score", "score", "max_score", "timestamp"]
    ada = rows[0]
    from grader.course.assignment import assignment
    from grader.course.model import Course

    assigned = assignment(Course(ROOT), list(ASSIGNED[1::2]))
    assert float(ada["score"]) == float(ada["max_score"]) == assigned.total  # the assignment's points
    assert {float(r["max_score"]) for r in rows} == {assigned.total}
    assert rows[2]["kfp_training_pipeline"] == ""  # chen sent none
    junit = sorted((demo["out"] / "report" / "junit").glob("*/*.xml"))
    assert len(junit) == 14
    suite = ET.parse(demo["out"] / "report" / "junit" / "ben" / "hybrid_placement.xml").getroot().find("testsuite")
    assert int(suite.get("failures")) > 0
    hidden = [f for f in suite.iter("failure") if f.get("type") == "hidden"]
    assert hidden and all(not (f.text or "").strip() and f.get("message") == "hidden test failed" for f in hidden)


def test_rerun_grades_nothing_unchanged(demo):
    """Running the demo command again skips every submission: same content, same tests."""
    started = time.monotonic()
    again = _hml("grade-course", str(CLASS), "--jobs", "2", "--output-dir", str(demo["out"]))
    assert again.returncode == 0, again.stderr
    assert "graded 0, skipped 14" in again.stdout
    assert time.monotonic() - started < 30


def test_generated_examples_match_their_sources():
    """The committed zips and notebooks of the example class are what examples/build_examples.py makes."""
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "build_examples.py"), "--check"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
