"""``hml lti push``: final grades through the Assignment and Grade Services of a test platform on loopback.

The course is linked by a real launch (tests/lti_platform); the gradebook is built from recorded runs (no
grading). Learners are matched on the platform's roster (NRPS, read page by page) by login, email or id;
scores arrive at the platform's line items, one per exercise. What the platform holds already is not sent
again, and a platform down or failing gets nothing recorded as sent.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lti_platform import EXERCISES, launch_through_platform, record_grade, servers

from grader.course.assignment import assignment
from grader.course.model import Course
from grader.platforms.lti.config import ToolFolder
from grader.platforms.lti.errors import ConfigError
from grader.platforms.lti.nrps import Member, Unmatched, match
from grader.platforms.lti.push import push
from grader.record.gradebook import Gradebook
from grader.record.pushes import PushStatus, history

ROOT = Path(__file__).resolve().parents[1]
MAXIMA = assignment(Course(ROOT), list(EXERCISES)).maxima
# The gradebook's learners: by login (the platform's lis_person_sourcedid), by email (case aside), by the
# platform's user id; carol is on no roster.
GRADES = {("alice01", "hybrid_placement"): 20.0, ("alice01", "kfp_basic_pipeline"): 15.0,
          ("bob@EXAMPLE.org", "hybrid_placement"): 31.0, ("u-erin", "kfp_basic_pipeline"): 5.0,
          ("carol", "hybrid_placement"): 12.0}


@pytest.fixture
def linked(tmp_path):
    """A platform, the tool, a course linked by an instructor's launch, and a gradebook of five grades."""
    with servers(tmp_path / "lti") as running:
        assert launch_through_platform(running).status_code == 200
        running.book = tmp_path / "out" / "gradebook.sqlite"
        for (learner, exercise), points in GRADES.items():
            record_grade(running.book, learner, exercise, points, MAXIMA[exercise])
        yield running


def hml_push(linked, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "grader.cli", "lti", "push", "--config", str(linked.folder.path), "--gradebook",
            str(linked.book), *[a for e in EXERCISES for a in ("-e", e)], *extra]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, COLUMNS="200"))


def push_here(linked, **options):
    with Gradebook(linked.book) as book:
        return push(book, assignment(Course(ROOT), list(EXERCISES)), linked.folder, **options)


def pushes(linked, status: PushStatus | None = None):
    with Gradebook(linked.book) as book:
        return [p for p in history(book, linked.platform.issuer) if status is None or p.status is status]


def received(linked) -> dict[tuple[str, str], float]:
    """The latest score the platform holds, by (user id, exercise)."""
    by_item = {item_id: item["resourceId"] for item_id, item in linked.platform.state.line_items.items()}
    return {(score["userId"], by_item[item]): score["scoreGiven"] for item, score in linked.platform.state.scores}


def test_push_sends_each_final_grade_once(linked):
    """The first push posts every matched learner's grade (matched by login, email or id) to the platform and
    records each as sent; carol, on no roster, is listed as unmatched. A second push with nothing changed sends
    nothing and records no new sent push."""
    first = hml_push(linked)
    assert first.returncode == 0, first.stdout + first.stderr
    assert received(linked) == {("u-alice", "hybrid_placement"): 20.0, ("u-alice", "kfp_basic_pipeline"): 15.0,
                                ("u-bob", "hybrid_placement"): 31.0, ("u-erin", "kfp_basic_pipeline"): 5.0}
    assert all(score["scoreMaximum"] == MAXIMA[linked.platform.state.line_items[item]["resourceId"]]
               and score["gradingProgress"] == "FullyGraded" for item, score in linked.platform.state.scores)
    assert "unmatched: carol" in first.stdout and "sent 4" in first.stdout
    sent = pushes(linked, PushStatus.SENT)
    assert {(p.learner, p.exercise, p.platform_user) for p in sent} == {
        ("alice01", "hybrid_placement", "u-alice"), ("alice01", "kfp_basic_pipeline", "u-alice"),
        ("bob@EXAMPLE.org", "hybrid_placement", "u-bob"), ("u-erin", "kfp_basic_pipeline", "u-erin")}
    assert [p.learner for p in pushes(linked, PushStatus.UNMATCHED)] == ["carol"]

    arrived = len(linked.platform.state.scores)
    second = hml_push(linked)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "sent 0, unchanged 4" in second.stdout
    assert len(linked.platform.state.scores) == arrived
    assert len(pushes(linked, PushStatus.SENT)) == 4
    assert len(pushes(linked, PushStatus.UNMATCHED)) == 1  # carol is not recorded again while nothing changed


def test_several_pushes_make_one_line_item_per_exercise(linked):
    """Line items are found again by resource id on every push: after three pushes (and a regrade between
    them) the platform has exactly one per exercise, and only the changed grade was sent again."""
    assert len(push_here(linked).sent) == 4
    record_grade(linked.book, "alice01", "kfp_basic_pipeline", 19.0, MAXIMA["kfp_basic_pipeline"])
    again = push_here(linked)
    assert [(p.learner, p.exercise) for p in again.sent] == [("alice01", "kfp_basic_pipeline")]
    assert not push_here(linked).sent
    items = list(linked.platform.state.line_items.values())
    assert sorted(item["resourceId"] for item in items) == sorted(EXERCISES)
    assert received(linked)[("u-alice", "kfp_basic_pipeline")] == 19.0


def test_a_line_item_made_by_hand_is_found_by_its_tag(linked):
    """A column the instructor made in the LMS, tagged with the exercise id, receives that exercise's scores;
    only the other exercise gets a line item made."""
    hand = f"{linked.platform.lineitems_url}/1"
    linked.platform.state.line_items[hand] = {"id": hand, "label": "Placement", "scoreMaximum": 31,
                                              "tag": "hybrid_placement"}
    outcome = push_here(linked)
    assert outcome.created == ["kfp_basic_pipeline"]
    assert len(linked.platform.state.line_items) == 2
    assert {item for item, score in linked.platform.state.scores if score["userId"] == "u-bob"} == {hand}


def test_a_dry_run_sends_creates_and_records_nothing(linked):
    """--dry-run lists what would be sent, and neither the platform nor the gradebook changes."""
    done = hml_push(linked, "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "would send 4" in done.stdout
    assert not linked.platform.state.line_items and not linked.platform.state.scores
    assert not pushes(linked)


@pytest.mark.parametrize("failing", ["every endpoint", "scores only"])
def test_a_platform_answering_500_gets_nothing_recorded_as_sent(linked, failing):
    """When the platform answers 500 (to everything, or to scores only) the push exits non-zero, says to run
    it again, records each grade as failed and none as sent; the next push, with the platform well, sends
    them all. (Without a roster nobody can be matched, carol included: all five grades are to retry.)"""
    if failing == "every endpoint":
        linked.platform.state.fail_with = 500
    else:
        linked.platform.fail_scores_with = 500
    expected = len(GRADES) if failing == "every endpoint" else len(GRADES) - 1
    done = hml_push(linked)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{expected} grade(s) not sent" in done.stderr and "run `hml lti push` again to retry" in done.stderr
    assert "HTTP 500" in done.stdout
    assert not pushes(linked, PushStatus.SENT)
    assert len(pushes(linked, PushStatus.FAILED)) == expected
    assert not linked.platform.state.scores

    linked.platform.state.fail_with = linked.platform.fail_scores_with = None
    retried = hml_push(linked)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert len(received(linked)) == 4 and len(pushes(linked, PushStatus.SENT)) == 4


def test_a_platform_down_gets_nothing_recorded_as_sent(linked):
    """With the platform unreachable the push exits non-zero, records every grade it would send as failed
    (nothing as sent) and says what to retry."""
    linked.stop_platform()
    done = hml_push(linked)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not be reached" in done.stdout and "again to retry" in done.stderr
    assert not pushes(linked, PushStatus.SENT)
    assert {(p.learner, p.exercise) for p in pushes(linked, PushStatus.FAILED)} == set(GRADES)


def test_a_line_item_elsewhere_never_gets_the_token(linked):
    """A line item whose id points outside the platform's addresses is refused before any request: the bearer
    token is never sent there, and the grade is recorded as failed."""
    elsewhere = "http://127.0.0.2:9/lineitems/1"
    linked.platform.state.line_items[elsewhere] = {"id": elsewhere, "label": "x", "scoreMaximum": 31,
                                                   "resourceId": "hybrid_placement"}
    outcome = push_here(linked)
    failed = {(p.learner, p.exercise): reason for p, reason in outcome.failed}
    assert set(failed) == {("alice01", "hybrid_placement"), ("bob@EXAMPLE.org", "hybrid_placement")}
    assert all("refused to contact" in reason for reason in failed.values())
    assert {p.exercise for p in pushes(linked, PushStatus.SENT)} == {"kfp_basic_pipeline"}


def test_matching_is_exact_and_never_guesses():
    """A learner matches a member only by an exact login, id or email (emails case aside); a learner two
    members could be, or a member two learners claim, stays unmatched, and a look-alike name matches nothing."""
    members = [Member("u1", email="ann@example.org", sourcedid="ann"), Member("u2", email="ben@example.org"),
               Member("u3", sourcedid="ben@example.org"), Member("u4", email="cy@example.org")]
    found = match(["ann", "ANN@example.org", "ben@example.org", "u4", "cy", "dee"], members)
    assert found.members == {"u4": members[3]}
    assert found.unmatched == {"ann": Unmatched.AMBIGUOUS, "ANN@example.org": Unmatched.AMBIGUOUS,
                               "ben@example.org": Unmatched.AMBIGUOUS, "cy": Unmatched.NOT_FOUND,
                               "dee": Unmatched.NOT_FOUND}


def test_the_tool_folder_stays_private(tmp_path):
    """The folder is narrowed to 0700 and the key made 0600; a key others can read is refused, as ssh does."""
    target = tmp_path / "lti"
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    folder = ToolFolder(target)
    folder.private_key_pem()
    assert oct(target.stat().st_mode & 0o777) == "0o700"
    assert oct((target / "tool-key.pem").stat().st_mode & 0o777) == "0o600"
    os.chmod(target / "tool-key.pem", 0o644)
    with pytest.raises(ConfigError, match="others can read it"):
        ToolFolder(target).private_key_pem()
