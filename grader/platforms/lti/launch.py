"""A launch checked end to end, and the course context taken from it.

pylti1p3 checks, in order: the state against its cookie, the JWT's shape,
the nonce, the registration (issuer, and ``aud`` against the client id), the
RS256 signature against the platform's JWKS (``exp`` and ``iat`` with it),
the deployment id, and the message's claims. ``CheckedLaunch`` adds what it
leaves open: the state must be a login this process issued and has not yet
seen launched (taken once, server-side), the nonce must be the one issued
with that state, ``exp``/``iat``/``nonce`` must be present, a list audience
needs ``azp``, and only RSA signatures are accepted. Only then is anything
read from the token; ``course_context`` stores nothing itself.
"""
from __future__ import annotations

from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.exception import LtiInvalidNonceException, LtiMessageValidationException

from grader.learner_text import clean
from grader.platforms.lti.config import CourseContext, Registration, checked_id, checked_url, now
from grader.platforms.lti.errors import ConfigError
from grader.platforms.lti.store import ServerSideSession

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
DEPLOYMENT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512"}
# The roles that may link a course (LTI 1.3 core, A.2.2 and A.2.3): a learner's launch links nothing.
LINKING_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
}


class LaunchRefused(Exception):
    """A launch that passed every check but may not link a course (a learner's, one without the services)."""


class CheckedLaunch(FlaskMessageLaunch):
    """pylti1p3's Flask launch, with state and nonce taken once from the server-side store."""

    _session_service: ServerSideSession

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._issued_nonce: str | None = None
        # PyJWT verifies exp and iat when present; here they must be. The audience is the registration's
        # client id, checked in validate_registration (PyJWT is given no audience to compare).
        self.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat", "iss", "aud", "nonce"]})

    def validate_state(self):
        super().validate_state()  # the state cookie, set at login in this browser
        self._issued_nonce = self._session_service.take_login(self._get_request_param("state"))
        if self._issued_nonce is None:
            raise LtiMessageValidationException("State not issued here, expired, or already used")
        return self

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        if not isinstance(nonce, str) or not nonce or nonce != self._issued_nonce:
            raise LtiInvalidNonceException("Invalid Nonce.")
        return self

    def validate_registration(self):
        super().validate_registration()
        body = self._get_jwt_body()
        audience = body.get("aud")
        client_id = self._registration.get_client_id()
        if isinstance(audience, list):
            # OpenID Connect core 3.1.3.7: several audiences need azp, and it must be this client.
            if client_id not in audience or (len(audience) > 1 and body.get("azp") != client_id):
                raise LtiMessageValidationException("Audience is not this tool")
        elif audience != client_id:
            raise LtiMessageValidationException("Audience is not this tool")
        if "azp" in body and body.get("azp") != client_id:
            raise LtiMessageValidationException("Authorized party is not this tool")
        return self

    def validate_jwt_signature(self):
        if self._jwt.get("header", {}).get("alg") not in SIGNING_ALGORITHMS:
            raise LtiMessageValidationException("Unsupported signing algorithm")
        return super().validate_jwt_signature()


def course_context(body: dict, registration: Registration) -> CourseContext:
    """The course a verified launch names: its service URLs, checked; ``LaunchRefused`` if it may not link one."""
    roles = body.get(ROLES_CLAIM)
    if not isinstance(roles, list) or not LINKING_ROLES & {r for r in roles if isinstance(r, str)}:
        raise LaunchRefused("only an instructor's launch links the course; nothing was stored")
    ags, nrps, context = body.get(AGS_CLAIM), body.get(NRPS_CLAIM), body.get(CONTEXT_CLAIM) or {}
    if not isinstance(ags, dict) or not isinstance(nrps, dict):
        raise LaunchRefused("the launch carries no Assignment and Grade Services or no Names and Role "
                            "Provisioning Services endpoint: enable both in the LMS's tool settings")
    scopes = ags.get("scope")
    if not isinstance(scopes, list):
        scopes = []
    try:
        return CourseContext(
            issuer=registration.issuer, client_id=registration.client_id,
            deployment_id=checked_id(body.get(DEPLOYMENT_CLAIM), "deployment_id"),
            token_url=registration.token_url,
            lineitems_url=checked_url(ags.get("lineitems"), "the line items URL"),
            memberships_url=checked_url(nrps.get("context_memberships_url"), "the roster URL"),
            scopes=tuple(s for s in scopes[:20] if isinstance(s, str) and len(s) < 200),
            # Compared on every later launch (a relink is refused): kept exactly, never cleaned into another id.
            context_id=checked_id(context.get("id") if isinstance(context, dict) else None, "the course's id"),
            context_title=_text(context.get("title") if isinstance(context, dict) else ""),
            linked_by=_text(body.get("sub")), linked_at=now())
    except ConfigError as exc:
        raise LaunchRefused(f"{exc}; nothing was stored") from None


def _text(value: object) -> str:
    return clean(value, 255) if isinstance(value, str) else ""
