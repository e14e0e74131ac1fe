"""The LTI launch as an instructor's browser makes it: headless Chromium, the test platform and the real tool.

Chromium opens the platform's launch link; the platform sends it to the tool's login initiation URL, the tool
redirects it to the platform's OIDC authorization endpoint, whose page auto-posts the signed id_token to the
tool's launch URL, which stores the course's context. A push then sends the grades to that course.
"""
from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lti_platform import EXERCISES, record_grade, servers
from test_report_pages import _chromium

from grader.course.assignment import assignment
from grader.course.model import Course

ROOT = Path(__file__).resolve().parents[1]


def _open(url: str, profile: Path) -> str:
    """The DOM Chromium shows once every redirect and auto-posted form of ``url`` has been followed."""
    done = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def running(tmp_path):
    with servers(tmp_path / "lti") as started:
        yield started


def test_an_instructor_links_the_course_in_a_browser_and_grades_arrive(running, tmp_path):
    """The launch driven in Chromium ends on the tool's "Course linked" page with the course's services stored;
    `hml lti push` then posts the learners' grades, which arrive at the platform's line items."""
    page = _open(f"{running.platform.base}/launch?user=teacher", tmp_path / "profile")
    assert '<h1 id="outcome">Course linked</h1>' in page, page[-2000:]
    assert html.escape(running.platform.context_title) in page
    login = running.platform.state.logins[-1]  # the tool's authentication request, as the platform saw it
    assert login["redirect_uri"] == running.tool.launch and login["nonce"] and login["state"]
    context = json.loads(running.context_file.read_text())
    assert context["lineitems_url"] == running.platform.lineitems_url

    maxima = assignment(Course(ROOT), list(EXERCISES)).maxima
    book = tmp_path / "out" / "gradebook.sqlite"
    record_grade(book, "alice01", "hybrid_placement", 25.0, maxima["hybrid_placement"])
    record_grade(book, "bob", "kfp_basic_pipeline", 18.0, maxima["kfp_basic_pipeline"])  # by login, the default
    done = subprocess.run([sys.executable, "-m", "grader.cli", "lti", "push", "--config", str(running.folder.path),
                           "--gradebook", str(book), "-e", EXERCISES[0], "-e", EXERCISES[1]],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="200"))
    assert done.returncode == 0, done.stdout + done.stderr
    arrived = {(score["userId"], running.platform.state.line_items[item]["resourceId"], score["scoreGiven"])
               for item, score in running.platform.state.scores}
    assert arrived == {("u-alice", "hybrid_placement", 25.0), ("u-bob", "kfp_basic_pipeline", 18.0)}


def test_a_learner_launch_in_a_browser_links_nothing(running, tmp_path):
    """A learner following the same link in a browser is told there is nothing to do; no course is linked."""
    page = _open(f"{running.platform.base}/launch?user=alice", tmp_path / "profile")
    assert '<h1 id="outcome">Nothing to do here</h1>' in page, page[-2000:]
    assert not running.context_file.exists()
