"""The web tool: OIDC login initiation, launch and JWKS, as a Flask app.

Whoever can reach these endpoints is treated as hostile. Request bodies are
bounded (``MAX_REQUEST``); a login or a launch is answered with a short
fixed page and a status (400 refused, 403 not allowed to link, 503 not
registered yet, 409 another course is linked), never with the library's own
message or a traceback; the only thing a launch writes is the course
context, and only once every check passed (``launch.py``). Once a course is
linked, a launch naming another (issuer, deployment, context id) is refused
and stores nothing, unless the tool runs with ``relink`` (``hml lti serve
--relink``) or the instructor removed ``context.json``: any instructor of any
course in the same deployment can launch the tool, and must not silently
move where the next push sends grades. Pages are built with escaping, as the platform's
titles are text from elsewhere.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urljoin

from flask import Flask, Response, jsonify
from markupsafe import escape
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException, ToolConfException
from pylti1p3.tool_config import ToolConfDict

from grader.platforms.lti.config import ToolFolder
from grader.platforms.lti.errors import ConfigError, NotLinked, PlatformError
from grader.platforms.lti.http import BoundedSession
from grader.platforms.lti.launch import CheckedLaunch, LaunchRefused, course_context
from grader.platforms.lti.store import OneTimeStore, ServerSideSession

MAX_REQUEST = 64 * 1024  # an id_token with every claim is a few kilobytes
LOGIN_PATH, LAUNCH_PATH, JWKS_PATH = "/lti/login", "/lti/launch", "/lti/jwks"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolUrls:
    """The addresses the LMS is given at registration (docs/lms.md)."""

    login: str
    launch: str
    jwks: str

    @classmethod
    def under(cls, public_url: str) -> "ToolUrls":
        base = public_url.rstrip("/") + "/"
        return cls(urljoin(base, LOGIN_PATH.lstrip("/")), urljoin(base, LAUNCH_PATH.lstrip("/")),
                   urljoin(base, JWKS_PATH.lstrip("/")))


def create_app(folder: ToolFolder, public_url: str, store: OneTimeStore | None = None, relink: bool = False) -> Flask:
    """The tool, answering at ``public_url`` (where the LMS reaches it), with its state in ``folder``."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST, MAX_FORM_MEMORY_SIZE=MAX_REQUEST, MAX_FORM_PARTS=20,
                      SECRET_KEY=secrets.token_hex(32))  # the Flask session is not used; this keeps it unforgeable
    urls = ToolUrls.under(public_url)
    store = store or OneTimeStore()
    folder.private_key_pem()  # made now, so the JWKS is there before the LMS asks

    def tool_conf():
        registration = folder.require_registration()
        conf = ToolConfDict(registration.tool_conf())
        conf.set_private_key(registration.issuer, folder.private_key_pem())
        conf.set_public_key(registration.issuer, folder.public_key_pem())
        return registration, conf

    @app.route(JWKS_PATH, methods=["GET"])
    def jwks():
        from pylti1p3.registration import Registration as LibraryRegistration

        return jsonify({"keys": [LibraryRegistration.get_jwk(folder.public_key_pem())]})

    @app.route(LOGIN_PATH, methods=["GET", "POST"])
    def login():
        try:
            registration, conf = tool_conf()
        except ConfigError:
            return _page("Not registered yet", "The tool has no registration: see docs/lms.md.", 503)
        flask_request = FlaskRequest()
        asked_client = flask_request.get_param("client_id")
        if asked_client and asked_client != registration.client_id:
            return _page("Login refused", "This login is not for this tool.", 400)
        target = flask_request.get_param("target_link_uri")
        if target and target != urls.launch:
            return _page("Login refused", "This login does not target this tool.", 400)
        oidc = FlaskOIDCLogin(flask_request, conf, session_service=ServerSideSession(flask_request, store))
        try:
            # The parameter makes the library hand the state to the session service, which binds it to the nonce.
            return oidc.pass_params_to_launch({"tool": "hml"}).redirect(urls.launch)
        except (OIDCException, LtiException, ToolConfException) as exc:
            log.info("login refused: %s", exc)
            return _page("Login refused", "The login request is not from the registered platform.", 400)

    @app.route(LAUNCH_PATH, methods=["POST"])
    def launch():
        try:
            registration, conf = tool_conf()
        except ConfigError:
            return _page("Not registered yet", "The tool has no registration: see docs/lms.md.", 503)
        flask_request = FlaskRequest()
        checked = CheckedLaunch(flask_request, conf, session_service=ServerSideSession(flask_request, store),
                                requests_session=BoundedSession([registration.jwks_url]))
        try:
            body = checked.get_launch_data()  # validates, or raises
        except (LtiException, ToolConfException, PlatformError, ValueError, RecursionError) as exc:
            log.info("launch refused: %s", exc)
            return _page("Launch refused", "The launch could not be verified; nothing was stored.", 400)
        try:
            context = course_context(dict(body), registration)
        except LaunchRefused as exc:
            return _page("Nothing to do here", str(exc), 403)
        if not relink:
            conflict = _linked_elsewhere(folder, context)
            if conflict:
                log.info("launch refused: %s", conflict)
                return _page("Another course is linked", conflict, 409)
        folder.save_context(context)
        return _page("Course linked",
                     f"Grades for {context.context_title or context.context_id or 'this course'} can now be sent "
                     "with `hml lti push`. You may close this page.", 200)

    @app.errorhandler(413)
    def too_large(_):
        return _page("Refused", "The request is too large.", 413)

    return app


def _linked_elsewhere(folder: ToolFolder, context) -> str | None:
    """Why ``context`` may not replace the linked course (another issuer, deployment or course); None if it may."""
    try:
        linked = folder.context()
    except NotLinked:
        return None
    except ConfigError:
        return ("The tool's linked course (context.json) cannot be read; nothing was stored. Remove it, or run "
                "`hml lti serve --relink`, to link this course.")
    if (linked.issuer, linked.deployment_id, linked.context_id) == (context.issuer, context.deployment_id,
                                                                    context.context_id):
        return None
    return (f"The tool is linked to {linked.context_title or linked.context_id or 'another course'}; this launch "
            f"from {context.context_title or context.context_id or 'another course'} was refused and nothing was "
            "stored. To send grades to this course instead, run `hml lti serve --relink` (or remove context.json) "
            "and launch again.")


def _page(title: str, text: str, status: int) -> Response:
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
            f"<body><h1 id='outcome'>{escape(title)}</h1><p id='detail'>{escape(text)}</p></body></html>")
    return Response(html, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'"})
