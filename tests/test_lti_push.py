"""``hml lti push``: final grades through the Assignment and Grade Services of a test platform on loopback.

The course is linked by a real launch (tests/lti_platform); the gradebook is built from recorded runs (no
grading). Learners are matched on the platform's roster (NRPS, read page by page) by the one field the
instructor chose (login by default, email or user id);
scores arrive at the platform's line items, one per exercise. What the platform holds already is not sent
again, and a platform down or failing gets nothing recorded as sent.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lti_platform import EXERCISES, launch_through_platform, record_grade, servers

from grader.course.assignment import assignment, read_assignment
from grader.course.model import Course
from grader.platforms.lti.config import ToolFolder
from grader.platforms.lti.errors import ConfigError, PlatformError
from grader.platforms.lti.nrps import Member, Unmatched, match
from grader.intake.submission_times import SubmissionTime
from grader.platforms.lti.push import push
from grader.record.adjustments import set_override
from grader.record.gradebook import Gradebook
from grader.record.pushes import PushStatus, history

ROOT = Path(__file__).resolve().parents[1]
MAXIMA = assignment(Course(ROOT), list(EXERCISES)).maxima
# The gradebook's learners, by login (the platform's lis_person_sourcedid); carol is on no roster.
GRADES = {("alice01", "hybrid_placement"): 20.0, ("alice01", "kfp_basic_pipeline"): 15.0,
          ("bob", "hybrid_placement"): 31.0, ("erin", "kfp_basic_pipeline"): 5.0,
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


def hml_push(linked, *extra: str, assignment_file: Path | None = None) -> subprocess.CompletedProcess:
    chosen = ["--assignment", str(assignment_file)] if assignment_file else [a for e in EXERCISES for a in ("-e", e)]
    args = [sys.executable, "-m", "grader.cli", "lti", "push", "--config", str(linked.folder.path), "--gradebook",
            str(linked.book), *chosen, *extra]
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
    """The first push posts every matched learner's grade (matched by login) to the platform and
    records each as sent, with what was sent (score, maximum, line item), when, and the platform's answer; carol,
    on no roster, is listed as unmatched. A second push with nothing changed sends nothing and records no new
    sent push."""
    before = datetime.now(timezone.utc).replace(microsecond=0)  # the record keeps whole seconds
    first = hml_push(linked)
    after = datetime.now(timezone.utc)
    assert first.returncode == 0, first.stdout + first.stderr
    assert received(linked) == {("u-alice", "hybrid_placement"): 20.0, ("u-alice", "kfp_basic_pipeline"): 15.0,
                                ("u-bob", "hybrid_placement"): 31.0, ("u-erin", "kfp_basic_pipeline"): 5.0}
    assert all(score["scoreMaximum"] == MAXIMA[linked.platform.state.line_items[item]["resourceId"]]
               and score["gradingProgress"] == "FullyGraded" for item, score in linked.platform.state.scores)
    assert "unmatched: carol" in first.stdout and "sent 4" in first.stdout
    sent = pushes(linked, PushStatus.SENT)
    assert {(p.learner, p.exercise, p.platform_user) for p in sent} == {
        ("alice01", "hybrid_placement", "u-alice"), ("alice01", "kfp_basic_pipeline", "u-alice"),
        ("bob", "hybrid_placement", "u-bob"), ("erin", "kfp_basic_pipeline", "u-erin")}
    item_of = {item["resourceId"]: item_id for item_id, item in linked.platform.state.line_items.items()}
    for p in sent:
        assert (p.score, p.max_score, p.line_item) == (GRADES[p.learner, p.exercise], MAXIMA[p.exercise],
                                                       item_of[p.exercise]), p
        assert p.answer == "accepted"  # the platform answered 204, no body
        assert before <= datetime.fromisoformat(p.sent_at) <= after, p.sent_at
    assert [p.learner for p in pushes(linked, PushStatus.UNMATCHED)] == ["carol"]

    arrived = len(linked.platform.state.scores)
    second = hml_push(linked)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "sent 0, unchanged 4" in second.stdout
    assert len(linked.platform.state.scores) == arrived
    assert len(pushes(linked, PushStatus.SENT)) == 4
    assert len(pushes(linked, PushStatus.UNMATCHED)) == 1  # carol is not recorded again while nothing changed


LATE_POLICY = """exercises = ["hybrid_placement", "kfp_basic_pipeline"]
[due]
hybrid_placement = 2026-03-01T23:59:00Z
[late]
penalty_per_day = 0.10
"""


def test_the_final_grade_is_sent_not_the_raw_points(linked, tmp_path):
    """What reaches the platform is each learner's final grade under the assignment file, never the tests' raw
    points: alice's hybrid_placement, handed in 2 started days late with penalty_per_day = 0.10, loses
    2 x 0.10 x its 31 points; erin's override of kfp_basic_pipeline arrives as the override's points, whatever
    her tests gave; bob, on time, and alice's other exercise, without a due date, arrive as graded. The
    gradebook records the same final scores as sent."""
    course_file = tmp_path / "assignment.toml"
    course_file.write_text(LATE_POLICY)
    handed_in = {("alice01", "hybrid_placement"): datetime(2026, 3, 3, 20, 0, tzinfo=timezone.utc),  # 44 h 1 min late
                 ("bob", "hybrid_placement"): datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)}    # on time
    with Gradebook(linked.book) as book:
        book.record_submission_times({key: SubmissionTime(*key, when) for key, when in handed_in.items()})
        set_override(book, read_assignment(Course(ROOT), course_file), "erin", "kfp_basic_pipeline", points=17.5,
                     reason="the report was marked by hand", who="tess")

    done = hml_push(linked, assignment_file=course_file)
    assert done.returncode == 0, done.stdout + done.stderr
    final = {("u-alice", "hybrid_placement"): 13.8,     # 20 - 2 days x 0.10 x 31 points (6.2)
             ("u-alice", "kfp_basic_pipeline"): 15.0,   # no due date: as graded
             ("u-bob", "hybrid_placement"): 31.0,       # on time: as graded
             ("u-erin", "kfp_basic_pipeline"): 17.5}    # the override, not the 5 her tests gave
    assert received(linked) == final
    assert "sent: alice01 hybrid_placement 13.8/31" in done.stdout
    assert {(p.platform_user, p.exercise): p.score for p in pushes(linked, PushStatus.SENT)} == final


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
    assert set(failed) == {("alice01", "hybrid_placement"), ("bob", "hybrid_placement")}
    assert all("refused" in reason and "not at the course's address" in reason for reason in failed.values())
    assert {p.exercise for p in pushes(linked, PushStatus.SENT)} == {"kfp_basic_pipeline"}


def test_matching_compares_one_chosen_field_and_never_crosses_fields():
    """--match-by compares a learner's name with one member field only: login with lis_person_sourcedid, email
    with email (case aside), user-id with the LTI user_id. A learner named 98765 (an LMS id, say) is never matched
    to a member because that member's user id, or another's SIS id, is 98765 unless that very field was chosen;
    two members sharing the chosen value, or two learners one member, stay unmatched."""
    members = [Member("98765", email="vic@example.org", sourcedid="s-vic"),
               Member("u-ann", email="Ann@Example.org", sourcedid="98765"),
               Member("u-ben", email="ben@example.org", sourcedid="ben"),
               Member("u-cy", email="ben@example.org", sourcedid="cy")]
    learners = ["98765", "s-vic", "ann@example.org", "u-ben", "ben@example.org", "cy", "dee"]

    by_login = match(learners, members)  # the default
    assert {k: v.user_id for k, v in by_login.members.items()} == {"98765": "u-ann", "s-vic": "98765", "cy": "u-cy"}
    assert set(by_login.unmatched) == {"ann@example.org", "u-ben", "ben@example.org", "dee"}

    by_email = match(learners, members, "email")
    assert {k: v.user_id for k, v in by_email.members.items()} == {"ann@example.org": "u-ann"}
    assert by_email.unmatched["ben@example.org"] is Unmatched.AMBIGUOUS  # two members share it
    assert by_email.unmatched["98765"] is Unmatched.NOT_FOUND

    by_id = match(learners, members, "user-id")
    assert {k: v.user_id for k, v in by_id.members.items()} == {"98765": "98765", "u-ben": "u-ben"}
    assert by_id.unmatched["s-vic"] is Unmatched.NOT_FOUND

    twice = match(["Ann@example.org", "ann@EXAMPLE.org"], members, "email")
    assert set(twice.unmatched.values()) == {Unmatched.AMBIGUOUS} and not twice.members


def test_hml_lti_push_match_by_email_sends_only_to_email_matches(linked):
    """`hml lti push --match-by email`: a gradebook of e-mails (any case) is matched on the roster's emails, and
    a learner named by login is then unmatched, not matched through another field."""
    email_book = linked.book.with_name("by-email.sqlite")
    record_grade(email_book, "ALICE@example.org", "hybrid_placement", 22.0, MAXIMA["hybrid_placement"])
    record_grade(email_book, "bob", "hybrid_placement", 9.0, MAXIMA["hybrid_placement"])
    linked.book = email_book
    done = hml_push(linked, "--match-by", "email")
    assert done.returncode == 0, done.stdout + done.stderr
    assert received(linked) == {("u-alice", "hybrid_placement"): 22.0}
    assert "unmatched: bob" in done.stdout


@pytest.mark.parametrize("where", ["listed id with a backslash", "listed id with user information",
                                   "next page elsewhere", "created id elsewhere"])
def test_the_token_never_leaves_the_course_s_address(linked, where):
    """A line item id or next-page link the platform hands back that requests would connect elsewhere (a
    backslash before '@' makes urlsplit read the platform's host while urllib3 connects to the part before it),
    that carries user information, or that names another origin, is refused before any byte: the listener on
    127.0.0.2 receives nothing, no bearer token, no grade, and the grades concerned are failed, never sent."""
    from lti_platform import listening

    platform = linked.platform
    host = platform.base[len("http://"):]
    with listening("127.0.0.2") as (port, stolen):
        thief = f"http://127.0.0.2:{port}"
        item = {"label": "x", "scoreMaximum": 31, "resourceId": "hybrid_placement"}
        if where == "listed id with a backslash":
            item["id"] = f"{thief}\\@{host}/courses/{platform.context_id}/lineitems/1"
        elif where == "listed id with user information":
            item["id"] = f"http://{host}@127.0.0.2:{port}/courses/{platform.context_id}/lineitems/1"
        elif where == "next page elsewhere":
            platform.line_items_next = f"{thief}/courses/{platform.context_id}/lineitems?page=2"
        else:
            platform.created_item_id = f"{thief}/courses/{platform.context_id}/lineitems/1"
        if "id" in item:
            platform.state.line_items[item["id"]] = item
        outcome = push_here(linked)
    assert stolen == []
    assert not platform.state.scores or where.startswith("listed")
    failed = {(p.learner, p.exercise): reason for p, reason in outcome.failed}
    assert failed and all("refused" in reason for reason in failed.values()), failed
    assert not {p.exercise for p in pushes(linked, PushStatus.SENT)} & {e for _, e in failed}
    if where.startswith("listed"):
        assert set(failed) == {("alice01", "hybrid_placement"), ("bob", "hybrid_placement")}
        assert {p.exercise for p in pushes(linked, PushStatus.SENT)} == {"kfp_basic_pipeline"}


def test_urls_are_read_as_requests_connects():
    """The origin check reads a URL as requests/urllib3 will connect, and refuses any URL two parsers could read
    differently (backslash, whitespace, control characters, user information)."""
    from grader.platforms.lti.http import BadUrl, origin, same_origin

    assert origin("HTTPS://LMS.example.edu/api") == ("https", "lms.example.edu", 443)
    assert origin("http://127.0.0.1:8080/x?next=a@b#c@d") == ("http", "127.0.0.1", 8080)
    for bad in ["http://127.0.0.2:9\\@lms.example.edu/x", "https://lms.example.edu@evil.example/x",
                "https://user:pw@lms.example.edu/x", "https://lms.example.edu /x", "https://lms.exa\tmple.edu/x",
                "https://lms.example.edu\x00.evil/x"]:
        with pytest.raises(BadUrl):
            origin(bad)
    with pytest.raises(PlatformError, match="not at the course's address"):
        same_origin("https://lms.example.edu:8443/x", "https://lms.example.edu/li", "the line item's id")


@pytest.mark.parametrize("failing, status", [("every endpoint", 500), ("scores only", 500), ("scores only", 302),
                                             ("every endpoint", 303), ("scores only", 400), ("every endpoint", 401),
                                             ("every endpoint", 403)])
def test_a_platform_answering_an_error_or_a_redirect_gets_nothing_recorded_as_sent(linked, failing, status):
    """When the platform answers 500, a refusal (400 to a score; 401 or 403, the token endpoint included, to
    everything) or a redirect (which pylti1p3 alone would take for success), to everything or to scores only, the
    push exits non-zero, names each grade not sent and says to run it again, records each grade as failed and
    none as sent, and the platform holds no score; the next push, with the platform well, sends them all.
    (Without a roster nobody can be matched, carol included: all five grades are to retry.)"""
    if failing == "every endpoint":
        linked.platform.state.fail_with = status
    else:
        linked.platform.fail_scores_with = status
    every = failing == "every endpoint"
    expected = len(GRADES) if every else len(GRADES) - 1
    done = hml_push(linked)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{expected} grade(s) not sent" in done.stderr and "run `hml lti push` again to retry" in done.stderr
    assert f"HTTP {status}" in done.stdout
    assert not pushes(linked, PushStatus.SENT)
    failed = pushes(linked, PushStatus.FAILED)
    assert {(p.learner, p.exercise) for p in failed} == {key for key in GRADES if key[0] != "carol" or every}
    assert all(f"failed: {p.learner} {p.exercise}: " in done.stdout for p in failed), done.stdout
    assert not linked.platform.state.scores

    linked.platform.state.fail_with = linked.platform.fail_scores_with = None
    retried = hml_push(linked)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert len(pushes(linked, PushStatus.SENT)) == 4
    assert {(u, e) for u, e in received(linked)} == {("u-alice", "hybrid_placement"), ("u-alice", "kfp_basic_pipeline"),
                                                     ("u-bob", "hybrid_placement"), ("u-erin", "kfp_basic_pipeline")}


def test_a_platform_trickling_its_answer_fails_at_the_request_deadline(linked, monkeypatch):
    """A score's answer trickled a byte at a time (each byte 1.5 s on the platform's clock, which the tool reads
    as its own: no wall-clock race decides this) is given up at the 60 s deadline of one request, however short
    each wait for a byte is: the grade is failed with the deadline named, the remaining grades are not attempted
    (no waiting for each in turn), and none is recorded as sent. A session past its overall bound refuses any
    further request before contacting the platform."""
    from grader.platforms.lti import http
    from grader.platforms.lti.http import BoundedSession

    monkeypatch.setattr(http, "clock", lambda: linked.platform.now)
    linked.platform.trickle_scores = 1.5
    outcome = push_here(linked)
    reasons = [reason for _, reason in outcome.failed]
    assert len(reasons) == 4 and "did not answer within 60 seconds" in reasons[0], reasons
    assert all(r.startswith("not attempted") for r in reasons[1:]), reasons
    assert not pushes(linked, PushStatus.SENT)

    session = BoundedSession([linked.platform.base], session_deadline=10)
    session.started = linked.platform.now - 11
    with pytest.raises(PlatformError, match="more than 10 seconds in all"):
        session.get(f"{linked.platform.base}/jwks")


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


def test_a_roster_field_cleaning_would_change_is_never_matched_on():
    """The platform's ids are compared exactly: a user id or e-mail holding a control character or a long run of
    digits (which cleaning would shorten into another member's) leaves that member unmatchable on it, never
    matched as the cleaned value."""
    from grader.platforms.lti.nrps import member_of

    assert member_of({"user_id": "u-\x00bob", "email": "bob@example.edu"}) is None
    long_id = "1" * 41
    assert member_of({"user_id": long_id, "email": "bob@example.edu"}) is None
    shown = member_of({"user_id": "u-bob", "email": "bob\x1b@example.edu", "lis_person_sourcedid": "bob"})
    assert (shown.user_id, shown.email, shown.sourcedid) == ("u-bob", "", "bob")
