"""The tool's credentials towards the linked course's services (pylti1p3's ``ServiceConnector``).

A service call first trades a client assertion (a JWT the tool signs with its
private key, which the platform checks against the tool's JWKS) for an OAuth2
bearer token (IMS Security Framework, 4.1); pylti1p3 signs and sends it.
The token is kept for this connector only: a push is one connector, and a
token never outlives it or serves another platform. Every failure, whatever
the library raised, becomes one ``PlatformError`` that names the HTTP status
(any status outside 200-299 is a failure: ``http.BoundedSession`` raises it
before pylti1p3, which would take a 3xx for success, sees the answer).
"""
from __future__ import annotations

import time
import typing as t
from contextlib import contextmanager

import requests
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.registration import Registration as LibraryRegistration
from pylti1p3.service_connector import ServiceConnector

from grader.platforms.lti.config import CourseContext, ToolFolder
from grader.platforms.lti.errors import PlatformError
from grader.platforms.lti.http import BoundedSession, StatusError


class PushConnector(ServiceConnector):
    """A service connector whose tokens live as long as it does."""

    def __init__(self, registration: LibraryRegistration, session: requests.Session):
        super().__init__(registration, session)
        self._tokens: dict[str, tuple[str, float]] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        token, expires = self._tokens.get(scope_key, ("", 0.0))
        return token if token and expires > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        if not isinstance(access_token, str) or not access_token or len(access_token) > 8192:
            raise PlatformError("the platform's token endpoint answered without a usable access token")
        try:
            lifetime = min(float(expires_in or 0), 3600.0)
        except (TypeError, ValueError):
            lifetime = 0.0
        self._tokens[scope_key] = (access_token, time.monotonic() + max(lifetime - 30, 0))


def connect(folder: ToolFolder, context: CourseContext) -> PushConnector:
    """A connector to the linked course, allowed to reach only its token, line items and roster origins."""
    registration = folder.registration()
    audience = registration.token_audience if registration and registration.issuer == context.issuer else ""
    library = (LibraryRegistration().set_issuer(context.issuer).set_client_id(context.client_id)
               .set_auth_token_url(context.token_url).set_tool_private_key(folder.private_key_pem())
               .set_tool_public_key(folder.public_key_pem()))
    if audience:
        library.set_auth_audience(audience)
    session = BoundedSession([context.token_url, context.lineitems_url, context.memberships_url])
    return PushConnector(library, session)


@contextmanager
def platform_call(what: str) -> t.Iterator[None]:
    """Turn whatever a call to the platform raised into a ``PlatformError`` saying what failed and how."""
    try:
        yield
    except StatusError as exc:  # anything but 2xx, a redirect included: not an answer
        raise PlatformError(f"{what}: the platform answered HTTP {exc.status}") from None
    except PlatformError as exc:
        raise PlatformError(f"{what}: {exc}", unreachable=exc.unreachable) from None
    except LtiServiceException as exc:
        status = exc.response.status_code
        raise PlatformError(f"{what}: the platform answered HTTP {status}") from None
    except requests.RequestException as exc:
        raise PlatformError(f"{what}: the platform could not be reached ({type(exc).__name__})",
                            unreachable=True) from None
    except (LtiException, AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
        raise PlatformError(f"{what}: the platform's answer was not understood ({type(exc).__name__})") from None
