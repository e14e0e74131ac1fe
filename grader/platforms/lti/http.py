"""Every request the tool makes, bounded: in time, in answer size, and in where it may go.

pylti1p3 takes a ``requests.Session`` and reads whole answers with
``.json()``; this session is the one it gets. A platform's answer is read at
most ``MAX_ANSWER`` bytes, a request gives up after ``TIMEOUT`` seconds,
redirects are not followed, and a URL outside the origins the tool was
configured with (the registration's and the linked course's) is refused
before any byte, or bearer token, is sent there: a line item id or a
"next page" link the platform hands back cannot send the token elsewhere.
"""
from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

import requests

from grader.platforms.lti.errors import PlatformError

MAX_ANSWER = 4 * 1024 * 1024   # a roster page of a large course is well below this
TIMEOUT = (5, 30)              # connect, read (seconds)
USER_AGENT = "hml-grader-lti"


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class BoundedSession(requests.Session):
    """A ``requests.Session`` that only talks to ``origins`` and reads bounded answers."""

    def __init__(self, allowed: Iterable[str]):
        super().__init__()
        self.allowed = {origin(url) for url in allowed}
        self.headers["User-Agent"] = USER_AGENT
        self.trust_env = False  # no proxy or .netrc credentials from the environment

    def request(self, method, url, *args, **kwargs):
        if origin(str(url)) not in self.allowed:
            raise PlatformError(f"refused to contact {str(url)[:200]!r}: not one of the platform's configured "
                                "addresses")
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        response = super().request(method, url, *args, **kwargs)
        try:
            declared = int(response.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_ANSWER:
            response.close()
            raise PlatformError(f"{str(url)[:200]} answered with {declared} bytes, more than {MAX_ANSWER}")
        body = response.raw.read(MAX_ANSWER + 1, decode_content=True)
        response.close()
        if len(body) > MAX_ANSWER:
            raise PlatformError(f"{str(url)[:200]} answered with more than {MAX_ANSWER} bytes")
        response._content = body  # what .json() and .text read from now on
        response._content_consumed = True
        return response
