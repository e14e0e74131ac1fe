"""The LTI tool's login and launch against a test platform on loopback: what links a course, what is refused.

The tool is the real one (Flask under waitress, as ``hml lti serve`` runs it), the platform signs real RS256
JWTs (tests/lti_platform). A refused launch answers 400 (403 for a launch that may not link a course) and
leaves no course context behind. The launch in a browser is tests/test_lti_browser.py.
"""
from __future__ import annotations

import json
import logging
import os
import stat
import time

import pytest
from lti_platform import launch_through_platform, login, post_launch, servers
from lti_platform.platform import new_key


@pytest.fixture
def running(tmp_path):
    with servers(tmp_path / "lti") as started:
        yield started


def test_a_verified_instructor_launch_links_the_course_privately(running):
    """The whole launch (platform login initiation, the tool's OIDC redirect, the platform's signed id_token)
    stores the course's services in a 0600 file of a 0700 folder, beside the 0600 key, and nothing else."""
    answer = launch_through_platform(running)
    assert answer.status_code == 200, answer.text
    context = json.loads(running.context_file.read_text())
    platform = running.platform
    assert context["lineitems_url"] == platform.lineitems_url
    assert context["memberships_url"] == platform.memberships_url
    assert (context["issuer"], context["client_id"], context["deployment_id"]) == (
        platform.issuer, platform.client_id, platform.deployment_id)
    assert context["token_url"] == f"{platform.base}/token"
    assert stat.S_IMODE(os.stat(running.folder.path).st_mode) == 0o700
    for name in ("context.json", "tool-key.pem"):
        assert stat.S_IMODE(os.stat(running.folder.path / name).st_mode) == 0o600, name
    assert "PRIVATE KEY" not in answer.text


def test_the_jwks_serves_the_public_key_only(running):
    """The JWKS endpoint publishes the tool's public key (no private parameter), under the key id the tool's
    client assertions carry."""
    import requests

    keys = requests.get(running.tool.jwks, timeout=30).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


# Each case: the claims changed, and words of the reason the tool logs (so that a refusal for another reason,
# say a broken state cookie, cannot pass for this one).
REFUSALS = {
    "bad signature": (dict(key="other"), "Signature verification failed"),
    "expired token": (dict(exp=lambda now: now - 60, iat=lambda now: now - 400), "expired"),
    "wrong audience": (dict(aud="another-tool", azp="another-tool"), "Client id not registered"),
    "audience list without this tool": (dict(aud=["another-tool", "a-third"], azp="another-tool"),
                                        "Client id not registered"),
    "wrong deployment": (dict(lti_deployment_id="deployment-elsewhere"), "deployment"),
    "wrong issuer": (dict(iss="https://lms.example.org"), "not found in settings"),
    "no expiry": (dict(exp=None), 'missing the "exp" claim'),
    "no nonce": (dict(nonce=None), "Invalid Nonce"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_launch_that_fails_a_check_is_refused_and_stores_nothing(running, case, caplog):
    """Each id_token that fails one check (signature by another key, expired, another audience, another
    deployment, another issuer, a required claim missing) is refused with 400, for that reason, and no context
    is stored."""
    caplog.set_level(logging.INFO, logger="grader.platforms.lti.app")
    browser, state, nonce = login(running)
    changes = {}
    now = int(time.time())
    claims, reason = REFUSALS[case]
    for name, value in claims.items():
        changes[name] = value(now) if callable(value) else value
    key = new_key() if changes.pop("key", None) == "other" else None
    answer = post_launch(running, browser, state, running.platform.id_token(nonce, key=key, **changes))
    assert answer.status_code == 400, (case, answer.status_code, answer.text)
    assert not running.context_file.exists()
    assert [r for r in caplog.messages if r.startswith("launch refused") and reason in r], caplog.messages


def test_a_replayed_launch_is_refused(running, caplog):
    """The same id_token and state posted a second time (state and nonce are taken once, server-side) is
    refused, and stores nothing again."""
    caplog.set_level(logging.INFO, logger="grader.platforms.lti.app")
    browser, state, nonce = login(running)
    token = running.platform.id_token(nonce)
    assert post_launch(running, browser, state, token).status_code == 200
    running.context_file.unlink()
    answer = post_launch(running, browser, state, token)
    assert answer.status_code == 400
    assert not running.context_file.exists()
    assert any("already used" in m for m in caplog.messages), caplog.messages


def test_a_nonce_seen_before_is_refused(running, caplog):
    """A fresh login whose id_token carries the nonce of an earlier, completed launch is refused."""
    caplog.set_level(logging.INFO, logger="grader.platforms.lti.app")
    browser, state, nonce = login(running)
    assert post_launch(running, browser, state, running.platform.id_token(nonce)).status_code == 200
    running.context_file.unlink()
    browser2, state2, _fresh = login(running)
    answer = post_launch(running, browser2, state2, running.platform.id_token(nonce))
    assert answer.status_code == 400
    assert not running.context_file.exists()
    assert any("Invalid Nonce" in m for m in caplog.messages), caplog.messages


def test_a_launch_without_the_login_cookie_is_refused(running):
    """A state posted from another browser than the one the login started in (no state cookie) is refused,
    even with a valid token: a launch cannot be forced on someone else's login."""
    import requests

    _browser, state, nonce = login(running)
    answer = post_launch(running, requests.Session(), state, running.platform.id_token(nonce))
    assert answer.status_code == 400
    assert not running.context_file.exists()


def test_a_learner_launch_links_nothing(running):
    """A valid launch by a learner is answered 403 and does not link (or re-link) the course."""
    answer = launch_through_platform(running, user="alice")
    assert answer.status_code == 403
    assert not running.context_file.exists()


def test_an_oversized_launch_is_refused(running):
    """A launch body beyond the tool's bound is refused before any check reads it."""
    browser, state, _nonce = login(running)
    answer = post_launch(running, browser, state, "x" * (200 * 1024))
    assert answer.status_code == 413
    assert not running.context_file.exists()


def test_a_login_for_another_tool_is_refused(running):
    """A login initiation naming another client or another target than this tool's launch URL is refused."""
    import requests

    for changed in ({"client_id": "another-tool"}, {"target_link_uri": "https://evil.example/launch"},
                    {"iss": "https://lms.example.org"}):
        params = {"iss": running.platform.issuer, "login_hint": "teacher", "target_link_uri": running.tool.launch,
                  "client_id": running.platform.client_id, **changed}
        answer = requests.get(running.tool.login, params=params, allow_redirects=False, timeout=30)
        assert answer.status_code == 400, changed


def test_logins_waiting_for_their_launch_are_bounded_and_taken_once():
    """The server-side store gives a login's nonce back once; past its capacity the oldest login is forgotten
    (a flood of logins costs bounded memory), and past its lifetime any login is (a clock the test moves)."""
    from grader.platforms.lti.store import OneTimeStore

    now = [0.0]
    store = OneTimeStore(lifetime=600, capacity=3, clock=lambda: now[0])
    for n in range(4):
        store.put(f"state-{n}", f"nonce-{n}")
    assert store.take("state-0") is None and len(store) == 3
    assert store.take("state-1") == "nonce-1" and store.take("state-1") is None
    now[0] = 601.0
    assert store.take("state-2") is None and len(store) == 0


def test_hml_lti_serve_serves_the_tool_under_waitress(tmp_path):
    """`hml lti serve` on a free loopback port prints the three URLs to register, says the tool is not
    registered yet, serves the JWKS, and refuses a login until registration.toml exists."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import requests

    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-m", "grader.cli", "lti", "serve", "--host", "127.0.0.1", "--port",
                                "0", "--config", str(tmp_path / "lti")], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1",
                                                                            COLUMNS="200"))
    try:
        lines = [process.stdout.readline() for _ in range(6)]
        printed = "".join(lines)
        assert "not registered yet" in printed, printed + process.stderr.read() if process.poll() else printed
        jwks_url = next(line.split()[-1] for line in lines if "JWKS" in line)
        keys = requests.get(jwks_url, timeout=30).json()["keys"]
        assert keys and "d" not in keys[0]
        login_url = next(line.split()[-1] for line in lines if "login" in line)
        assert requests.get(login_url, params={"iss": "x", "login_hint": "y"}, timeout=30).status_code == 503
        assert oct((tmp_path / "lti" / "tool-key.pem").stat().st_mode & 0o777) == "0o600"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _other_course_token(platform, nonce: str, context_id: str = "other-course") -> str:
    """A valid instructor launch, same issuer and deployment, from another course with its own services."""
    from lti_platform.platform import AGS_SCOPES

    return platform.id_token(nonce, lti_context={"id": context_id, "title": "Someone else's course"}, **{
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": AGS_SCOPES, "lineitems": f"{platform.base}/courses/{context_id}/lineitems"},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": f"{platform.base}/courses/{context_id}/memberships"}})


def test_a_launch_from_another_course_never_silently_relinks(running):
    """Once a course is linked, an instructor's valid launch from another course of the same deployment is
    refused (409, a page saying which course is linked and how to relink) and context.json keeps its bytes; a
    launch from the linked course itself is still accepted. Removing context.json lets the other course link."""
    assert launch_through_platform(running).status_code == 200
    linked = running.context_file.read_bytes()

    browser, state, nonce = login(running)
    answer = post_launch(running, browser, state, _other_course_token(running.platform, nonce))
    assert answer.status_code == 409, answer.text
    assert "hml lti serve --relink" in answer.text and "nothing was" in answer.text
    assert running.context_file.read_bytes() == linked

    assert launch_through_platform(running).status_code == 200  # the same course again: fine
    assert json.loads(running.context_file.read_text())["context_id"] == running.platform.context_id

    running.context_file.unlink()
    browser, state, nonce = login(running)
    assert post_launch(running, browser, state, _other_course_token(running.platform, nonce)).status_code == 200
    assert json.loads(running.context_file.read_text())["context_id"] == "other-course"


def test_relink_lets_another_course_replace_the_linked_one(tmp_path):
    """With `hml lti serve --relink` (make_server's relink), an instructor's launch from another course replaces
    the linked course, service URLs included."""
    with servers(tmp_path / "lti", relink=True) as started:
        assert launch_through_platform(started).status_code == 200
        browser, state, nonce = login(started)
        answer = post_launch(started, browser, state, _other_course_token(started.platform, nonce))
        assert answer.status_code == 200, answer.text
        context = json.loads(started.context_file.read_text())
        assert context["context_id"] == "other-course"
        assert context["lineitems_url"] == f"{started.platform.base}/courses/other-course/lineitems"
