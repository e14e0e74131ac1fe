"""The test tiers are set from what each test uses (tests/conftest.py), registered once, and `make test-fast`
leaves out every one of them.

The tiers are collected, not run: one `pytest --collect-only` of a few known tests, with a plugin that prints
the tier markers each one got.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import TIERS

ROOT = Path(__file__).resolve().parents[1]

# Known tests and the tiers they need, each for the reason given.
EXPECTED = {
    # grades through the `grade` fixture
    "tests/test_grading.py::test_refused_submission_is_a_result_not_a_crash": {"sandbox"},
    # runs `hml grade` in a subprocess, without asking for a sandbox fixture
    "tests/test_grading.py::test_grade_cli_writes_results_per_submission": {"sandbox"},
    # decodes frames in this process
    "tests/test_grading.py::test_decoder_refuses_forged_frames": set(),
    # a quiz answer, read in this process
    "tests/test_quiz_answers.py::test_blank_answers_are_unanswered": set(),
    # grades a mobile exercise
    "tests/test_exercise_mobile_convert.py::test_reference_earns_full_marks": {"sandbox", "tensorflow"},
    # reads stored fixture weights with numpy, in a mobile exercise's module
    "tests/test_exercise_mobile_fixtures.py::test_fixture_models_are_large_enough": set(),
    # a mobile exercise's mutant table, read without grading (its gradings are `sandbox` and `tensorflow`)
    "tests/test_mutants.py::test_table_is_well_formed[tflite_convert]": set(),
    # Celery workers grading through a Redis broker
    "tests/test_cluster.py::test_celery_grades_a_class_as_the_local_engine_does": {"sandbox", "redis"},
    # the report laid out in Chromium
    "tests/test_report_pages.py::test_learner_page_fits_1400px": {"chromium"},
}

PLUGIN = f"""
import json
TIERS = {list(TIERS)!r}
def pytest_collection_finish(session):
    found = {{item.nodeid: sorted(m.name for m in item.iter_markers() if m.name in TIERS) for item in session.items}}
    print("TIERS " + json.dumps(found))
"""


def test_known_tests_get_the_tiers_they_use(tmp_path):
    """A grading test is `sandbox`, a mobile grading also `tensorflow`, the cluster's `redis`, the report's layout
    `chromium`; a quiz test, a wire test and numpy-only checks in a mobile module get none."""
    (tmp_path / "hml_tier_probe.py").write_text(PLUGIN)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "hml_tier_probe", *EXPECTED],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = next((line for line in done.stdout.splitlines() if line.startswith("TIERS ")), None)
    assert done.returncode == 0 and line, done.stdout[-2000:] + done.stderr[-2000:]
    found = {nodeid: set(tiers) for nodeid, tiers in json.loads(line[len("TIERS "):]).items()}
    assert found == EXPECTED


def test_every_tier_is_registered_and_left_out_of_the_fast_run():
    """pyproject.toml registers each tier conftest.py sets (and no other marker), and `make test-fast` leaves
    each one out."""
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert sorted(m.split(":")[0] for m in markers) == sorted(TIERS)
    fast = re.search(r"^test-fast:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert fast, "the Makefile has no test-fast target"
    expression = re.search(r'-m "([^"]+)"', fast.group(1)).group(1)
    assert expression == " and ".join(f"not {tier}" for tier in TIERS)
