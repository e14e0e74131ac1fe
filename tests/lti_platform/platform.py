"""A test LTI 1.3 platform (an LMS as the tool sees it), written from the IMS specifications.

- LTI 1.3 Core, 5.1 (third-party initiated login) and OpenID Connect implicit flow: ``/launch`` starts a login
  at the tool; ``/auth`` checks the tool's authentication request and answers with a page that auto-posts a
  signed id_token (RS256, the platform's key, ``kid`` in the header) and the state to the tool's redirect URI.
- ``/jwks``: the platform's public keys.
- IMS Security Framework 4.1: ``/token`` issues bearer tokens for the client-credentials grant, after checking
  the tool's client assertion JWT against the tool's own JWKS (fetched from the tool, as an LMS does): issuer
  and subject the client id, audience the token URL, not expired, its ``jti`` never seen before.
- AGS 2.0: a line items container (GET, POST) and scores (POST ``<line item>/scores``), each needing its scope.
- NRPS 2.0: the context membership container, paginated (``Link: <...>; rel="next"``).

Everything it receives is kept for the tests to look at; ``fail_with`` makes the token and service endpoints
answer with that HTTP status instead, as a platform in trouble would. A hostile or broken platform is played
with ``fail_scores_with`` (the scores endpoint alone answers that status, a redirect included),
``line_items_next`` (a ``Link: rel="next"`` on the line items page), ``created_item_id`` (the id a created
line item is given) and ``trickle_scores`` (a score's answer sent a byte at a time, each byte moving the
platform's clock ``now`` on by that many seconds: a test hands ``now`` to the tool as its clock, so that
"slow" is decided by that clock, never by how fast the machine is).
"""
from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
              "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
              "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class User:
    sub: str
    name: str
    email: str
    sourcedid: str
    roles: list[str]


@dataclass
class PlatformState:
    """What the platform holds and what it received."""

    line_items: dict[str, dict] = field(default_factory=dict)       # id (URL) -> line item
    scores: list[tuple[str, dict]] = field(default_factory=list)    # (line item id, score) in arrival order
    tokens: dict[str, set[str]] = field(default_factory=dict)       # bearer token -> scopes
    assertions_seen: set[str] = field(default_factory=set)          # client assertion jti
    logins: list[dict] = field(default_factory=list)                # the tool's authentication requests
    fail_with: int | None = None


class TestPlatform:
    __test__ = False  # not a test class

    client_id = "hml-tool-client"
    deployment_id = "deployment-1"
    context_id = "course-42"
    context_title = "Building Hybrid ML Systems, spring"
    kid = "platform-key-1"

    def __init__(self):
        self.key = new_key()
        self.base = ""   # http://127.0.0.1:PORT, once serving
        self.tool_login_url = self.tool_launch_url = self.tool_jwks_url = ""
        self.state = PlatformState()
        self.fail_scores_with: int | None = None  # only the scores endpoint fails (line items and roster work)
        self.line_items_next: str | None = None   # a next-page link the line items page carries
        self.created_item_id: str | None = None   # the id a created line item gets instead of the platform's own
        self.trickle_scores: float | None = None  # seconds of ``now`` each byte of a score's answer takes
        self.now = 0.0                             # the platform's clock, moved only by trickled bytes
        self.lock = threading.Lock()
        self.users = {
            "teacher": User("u-teacher", "Tess Teacher", "tess@example.org", "tess", [INSTRUCTOR]),
            "alice": User("u-alice", "Alice A", "Alice@Example.org", "alice01", [LEARNER]),
            "bob": User("u-bob", "Bob B", "bob@example.org", "bob", [LEARNER]),
            "erin": User("u-erin", "Erin \x1b[2J E", "erin@example.org", "erin", [LEARNER]),
        }

    # -- addresses ---------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.base

    @property
    def lineitems_url(self) -> str:
        return f"{self.base}/courses/{self.context_id}/lineitems"

    @property
    def memberships_url(self) -> str:
        return f"{self.base}/courses/{self.context_id}/memberships"

    def registration_toml(self, deployment_ids: list[str] | None = None) -> str:
        deployments = ", ".join(json.dumps(d) for d in (deployment_ids or [self.deployment_id]))
        return (f'issuer = "{self.issuer}"\nclient_id = "{self.client_id}"\ndeployment_ids = [{deployments}]\n'
                f'auth_login_url = "{self.base}/auth"\ntoken_url = "{self.base}/token"\n'
                f'jwks_url = "{self.base}/jwks"\n')

    # -- tokens ------------------------------------------------------------------------------
    def jwks(self) -> dict:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [dict(public, kid=self.kid, alg="RS256", use="sig")]}

    def claims(self, nonce: str, user: str = "teacher") -> dict:
        person = self.users[user]
        now = int(time.time())
        return {
            "iss": self.issuer, "aud": self.client_id, "azp": self.client_id, "sub": person.sub,
            "exp": now + 300, "iat": now, "nonce": nonce,
            "name": person.name, "email": person.email,
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id, LTI + "target_link_uri": self.tool_launch_url,
            LTI + "resource_link": {"id": "link-1", "title": "Grades"},
            LTI + "roles": person.roles,
            LTI + "context": {"id": self.context_id, "title": self.context_title, "label": "BHMLS"},
            LTI + "lis": {"person_sourcedid": person.sourcedid},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {"scope": AGS_SCOPES,
                                                                        "lineitems": self.lineitems_url},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.memberships_url, "service_versions": ["2.0"]},
        }

    def id_token(self, nonce: str, /, user: str = "teacher", key: rsa.RSAPrivateKey | None = None,
                 **changes) -> str:
        """A signed id_token for ``user``; ``changes`` replace claims (None removes one), ``key`` signs instead."""
        body = self.claims(nonce, user)
        for name, value in changes.items():
            name = LTI + name[len("lti_"):] if name.startswith("lti_") else name
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return jwt.encode(body, pem(key or self.key), algorithm="RS256", headers={"kid": self.kid})

    # -- the WSGI app ------------------------------------------------------------------------
    def app(self) -> Flask:
        app = Flask("test_lti_platform")

        @app.get("/launch")
        def start_login():
            """The platform starts a launch: the browser goes to the tool's login initiation URL."""
            user = request.args.get("user", "teacher")
            query = {"iss": self.issuer, "login_hint": user, "target_link_uri": self.tool_launch_url,
                     "lti_message_hint": "link-1", "client_id": self.client_id,
                     "lti_deployment_id": self.deployment_id}
            return redirect(f"{self.tool_login_url}?{urlencode(query)}")

        @app.route("/auth", methods=["GET", "POST"])
        def authenticate():
            params = request.values
            self.state.logins.append(dict(params))
            expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                        "prompt": "none", "client_id": self.client_id, "redirect_uri": self.tool_launch_url}
            wrong = [k for k, v in expected.items() if params.get(k) != v]
            if wrong or params.get("login_hint") not in self.users or not params.get("nonce") \
                    or not params.get("state"):
                return Response(f"bad authentication request: {wrong}", status=400)
            token = self.id_token(params["nonce"], params["login_hint"])
            page = (f"<!doctype html><html><body onload='document.forms[0].submit()'>"
                    f"<form method='post' action='{html.escape(self.tool_launch_url)}'>"
                    f"<input type='hidden' name='id_token' value='{html.escape(token)}'>"
                    f"<input type='hidden' name='state' value='{html.escape(params['state'])}'>"
                    f"</form></body></html>")
            return Response(page, mimetype="text/html")

        @app.get("/jwks")
        def keys():
            return jsonify(self.jwks())

        @app.post("/token")
        def token():
            if self.state.fail_with:
                return Response("unavailable", status=self.state.fail_with)
            form = request.form
            if form.get("grant_type") != "client_credentials" or \
                    form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                return jsonify({"error": "unsupported_grant_type"}), 400
            try:
                claims = self._check_assertion(form.get("client_assertion", ""))
            except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
                return jsonify({"error": "invalid_client", "error_description": str(exc)}), 401
            allowed = set(AGS_SCOPES) | {NRPS_SCOPE}
            asked = set(form.get("scope", "").split())
            if not asked or not asked <= allowed:
                return jsonify({"error": "invalid_scope"}), 400
            bearer = secrets.token_urlsafe(24)
            with self.lock:
                self.state.tokens[bearer] = asked
            return jsonify({"access_token": bearer, "token_type": "Bearer", "expires_in": 3600,
                            "scope": " ".join(sorted(asked)), "client": claims["sub"]})

        @app.route("/courses/<course>/lineitems", methods=["GET", "POST"])
        def line_items(course):
            refused = self._refuse(course, "lineitem" if request.method == "POST" else "lineitem-read")
            if refused:
                return refused
            if request.method == "GET":
                items = list(self.state.line_items.values())
                for name, key in (("resource_id", "resourceId"), ("tag", "tag")):
                    if name in request.args:
                        items = [i for i in items if i.get(key) == request.args[name]]
                response = Response(json.dumps(items), mimetype="application/vnd.ims.lis.v2.lineitemcontainer+json")
                if self.line_items_next:
                    response.headers["Link"] = f'<{self.line_items_next}>; rel="next"'
                return response
            if request.mimetype != "application/vnd.ims.lis.v2.lineitem+json":
                return Response("wrong content type", status=415)
            item = request.get_json(force=True)
            if not isinstance(item.get("label"), str) or not isinstance(item.get("scoreMaximum"), (int, float)):
                return Response("label and scoreMaximum are required", status=400)
            with self.lock:
                item["id"] = self.created_item_id or f"{self.lineitems_url}/{len(self.state.line_items) + 1}"
                self.state.line_items[item["id"]] = item
            return Response(json.dumps(item), status=201, mimetype="application/vnd.ims.lis.v2.lineitem+json")

        @app.post("/courses/<course>/lineitems/<number>/scores")
        def scores(course, number):
            refused = self._refuse(course, "score")
            if refused:
                return refused
            if self.fail_scores_with:
                return Response("scores are unavailable", status=self.fail_scores_with)
            item_id = f"{self.lineitems_url}/{number}"
            if item_id not in self.state.line_items:
                return Response("no such line item", status=404)
            if request.mimetype != "application/vnd.ims.lis.v1.score+json":
                return Response("wrong content type", status=415)
            score = request.get_json(force=True)
            members = {u.sub for u in self.users.values()}
            required = ("userId", "activityProgress", "gradingProgress", "timestamp")
            if any(k not in score for k in required) or score["userId"] not in members:
                return Response("bad score", status=400)
            with self.lock:
                self.state.scores.append((item_id, score))
            if self.trickle_scores:
                return Response(self._trickle(100), status=200, mimetype="application/json",
                                headers={"Content-Length": "100"})
            return Response(status=204)

        @app.get("/courses/<course>/memberships")
        def memberships(course):
            refused = self._refuse(course, "nrps")
            if refused:
                return refused
            members = [{"user_id": u.sub, "name": u.name, "email": u.email, "lis_person_sourcedid": u.sourcedid,
                        "roles": u.roles, "status": "Active"} for u in self.users.values()]
            page = int(request.args.get("page", "0"))
            size = 2  # small pages: the tool must follow rel="next"
            body = {"id": self.memberships_url, "context": {"id": self.context_id, "title": self.context_title},
                    "members": members[page * size:(page + 1) * size]}
            response = Response(json.dumps(body), mimetype="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
            if (page + 1) * size < len(members):
                response.headers["Link"] = f'<{self.memberships_url}?page={page + 1}>; rel="next"'
            return response

        return app

    def _trickle(self, size: int):
        for _ in range(size):
            with self.lock:
                self.now += self.trickle_scores
            yield b" "
            time.sleep(0.005)

    def _check_assertion(self, assertion: str) -> dict:
        keys = requests.get(self.tool_jwks_url, timeout=10).json()
        kid = jwt.get_unverified_header(assertion)["kid"]
        found = next(k for k in keys["keys"] if k.get("kid") == kid)
        public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(found))
        claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=f"{self.base}/token",
                            issuer=self.client_id, options={"require": ["exp", "iat", "jti", "sub"]})
        if claims["sub"] != self.client_id:
            raise jwt.InvalidTokenError("sub is not the client id")
        with self.lock:
            if claims["jti"] in self.state.assertions_seen:
                raise jwt.InvalidTokenError("client assertion replayed")
            self.state.assertions_seen.add(claims["jti"])
        return claims

    def _refuse(self, course: str, need: str) -> Response | None:
        if self.state.fail_with:
            return Response("the platform is having a bad day", status=self.state.fail_with)
        if course != self.context_id:
            return Response("no such course", status=404)
        header = request.headers.get("Authorization", "")
        scopes = self.state.tokens.get(header[len("Bearer "):]) if header.startswith("Bearer ") else None
        if scopes is None:
            return Response("no valid bearer token", status=401)
        wanted = {"lineitem": {AGS_SCOPES[0]}, "lineitem-read": {AGS_SCOPES[0]}, "score": {AGS_SCOPES[2]},
                  "nrps": {NRPS_SCOPE}}[need]
        if not wanted & scopes:
            return Response("scope not granted", status=403)
        return None
