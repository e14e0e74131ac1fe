"""A class graded for real: totals come from the assignment, and timeouts are counted from test kinds.

One class folder, graded in two rounds with ``hml grade-course``:
- round one: ``ada`` submits both assigned exercises (the reference solutions);
- round two: ``ben`` submits only the starters (one of an exercise that was
  not assigned, too), and ``cy`` submits code that
  never returns: ``place`` loops forever on one hidden input, and the
  ``reverse`` component loops forever inside the hidden pipeline run (stopped
  at its 30 s limit).
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.record.gradebook import Gradebook
from grader.record.kinds import Kind
from grading_helpers import mutate

ROOT = Path(__file__).resolve().parents[1]
HML = [sys.executable, "-m", "grader.cli"]
ASSIGNED = ["hybrid_placement", "kfp_basic_pipeline"]
POINTS = 31 + 20  # the two exercises' public and hidden points, as exercise.toml and the tests declare them


def _hml(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    done = subprocess.run([*HML, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _submit(folder: Path, exercise: str, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{exercise}.py").write_text(source)


def _grade_and_report(klass: Path, out: Path) -> dict:
    _hml("grade-course", str(klass), "--jobs", "2", "--output-dir", str(out), "--sandbox",
         os.environ.get("HML_SANDBOX", "bwrap"))
    _hml("report", "--output-dir", str(out), "--assignment", str(klass / "assignment.toml"))
    export = _hml("gradebook", "export", "--output-dir", str(out), "--assignment", str(klass / "assignment.toml"))
    rows = {r["student_id"]: r for r in csv.DictReader(export.stdout.splitlines())}
    report = out / "report"
    return {"rows": rows, "report_csv": {r["student_id"]: r for r in csv.DictReader((report / "grades.csv").open())},
            "index": (report / "index.html").read_text(),
            "pages": {p.stem: p.read_text() for p in (report / "learners").glob("*.html")}}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandboxed):
    klass = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    (klass / "assignment.toml").write_text(f"exercises = {json.dumps(ASSIGNED)}\n")
    for exercise in ASSIGNED:
        module = "placement.py" if exercise == "hybrid_placement" else "pipeline.py"
        _submit(klass / "ada", exercise, (ROOT / "solutions" / exercise / module).read_text())
    first = _grade_and_report(klass, out)

    for exercise in ASSIGNED:
        module = "placement.py" if exercise == "hybrid_placement" else "pipeline.py"
        _submit(klass / "ben", exercise, (ROOT / "exercises" / exercise / module).read_text())
    _submit(klass / "ben", "kfp_sweep", (ROOT / "exercises" / "kfp_sweep" / "pipeline.py").read_text())
    placement = (ROOT / "solutions" / "hybrid_placement" / "placement.py").read_text()
    _submit(klass / "cy", "hybrid_placement", mutate(placement, (
        'memory, size = w["device_memory_mb"], w["model_size_mb"]\n',
        'memory, size = w["device_memory_mb"], w["model_size_mb"]\n'
        '        while size == 256.5:  # one hidden case never returns\n            pass\n')))
    pipeline = (ROOT / "solutions" / "kfp_basic_pipeline" / "pipeline.py").read_text()
    _submit(klass / "cy", "kfp_basic_pipeline", mutate(pipeline, (
        '    outputs = namedtuple("outputs", ["before", "after"])\n',
        '    outputs = namedtuple("outputs", ["before", "after"])\n'
        '    while a.startswith("Kube"):  # only the hidden pipeline run never ends\n        pass\n')))
    second = _grade_and_report(klass, out)
    return {"first": first, "second": second, "out": out}


def _total(index: str, learner: str) -> tuple[str, str]:
    """The learner's total and percentage in the overview's learners table."""
    row = re.search(rf'<tr>\s*<td><a href="learners/{learner}.html">{learner}</a></td>(.*?)</tr>', index, re.S)
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    return cells[-2].strip(), cells[-1].strip()


def test_a_learners_total_does_not_move_when_others_submit(graded):
    """ada's 51/51 (100%) in the overview, on her page, in grades.csv and in the export are the same before
    and after other learners submit starters; max_score is the assignment's points for every learner."""
    first, second = graded["first"], graded["second"]
    assert _total(first["index"], "ada") == _total(second["index"], "ada") == (str(POINTS), "100%")
    for round_ in (first, second):
        for table in (round_["rows"], round_["report_csv"]):
            assert table["ada"]["score"] == table["ada"]["max_score"] == str(POINTS)
            assert {row["max_score"] for row in table.values()} == {str(POINTS)}
    assert f"{POINTS} / {POINTS}</div>total (100%)" in second["pages"]["ada"]
    ben_total, ben_pct = _total(second["index"], "ben")
    assert float(ben_total) < POINTS / 2 and ben_pct == f"{100 * float(ben_total) / POINTS:.0f}%"
    assert second["rows"]["ben"]["max_score"] == str(POINTS)


def test_exercises_outside_the_assignment_are_not_shown(graded):
    """Only the assigned exercises get a column, a card or a section: no '— / 26 kfp_sweep'."""
    second = graded["second"]
    assert list(second["rows"]["ada"])[1:3] == ASSIGNED and "kfp_sweep" not in second["rows"]["ada"]
    for page in [second["index"], *second["pages"].values()]:
        assert "kfp_sweep" not in page and "tflite_convert" not in page


def test_hidden_call_and_kfp_run_timeouts_are_counted_as_timeouts(graded):
    """cy's hung `place` call (a worker timeout) and its endless KFP run (the run's own limit) are recorded as
    timeout kinds in results.json and the gradebook, and the overview counts both as timeouts."""
    out = graded["out"]
    with Gradebook(out / "gradebook.sqlite") as book:
        runs = {r.exercise: r for r in book.latest() if r.learner == "cy"}
    for exercise, run in runs.items():
        timed_out = [t for t in run.tests if t.kind is Kind.TIMEOUT]
        assert timed_out and run.timeouts == len(timed_out), (exercise, [(t.name, t.kind) for t in run.tests])
        assert all(t.visibility == "hidden" for t in timed_out)
        others = [t for t in run.tests if t.kind is not Kind.TIMEOUT]
        assert others and all(t.passed for t in others if t.visibility == "visible"), exercise
        data = json.loads((out / "cy" / exercise / "results.json").read_text())
        assert sum(t["extra_data"]["kind"] == "timeout" for t in data["tests"]) == len(timed_out)
    kfp = [t.output for t in runs["kfp_basic_pipeline"].tests if t.kind is Kind.TIMEOUT]
    assert any("the run took too long" in message for message in kfp), kfp
    index = graded["second"]["index"]
    trouble = index.split('id="trouble"')[1].split("<h3>Refused")[0]
    assert trouble.count('href="learners/cy.html"') == 2, trouble
    expected = sum(r.timeouts for r in runs.values())
    assert f"0 / {expected} / 0</div>refused / tests timed out / grader errors" in index
    assert "out of time" in graded["second"]["pages"]["cy"]


def test_learner_pages_link_nowhere(graded):
    """A learner page is handed out alone: it has no link (the overview shows hidden tests' messages)."""
    for name, page in graded["second"]["pages"].items():
        assert "<a " not in page and "href=" not in page, name
