"""Every request the tool makes, bounded: in time, in answer size, in where it may go, and in what counts as an answer.

pylti1p3 takes a ``requests.Session`` and reads whole answers with
``.json()``; this session is the one it gets.

- **Where.** A URL outside the origins the tool was configured with (the
  registration's and the linked course's) is refused before any byte, or
  bearer token, is sent there. The origin is taken as requests and urllib3
  will connect (``PreparedRequest.prepare_url``, then ``urllib3.util.parse_url``),
  and it must agree with what ``urllib.parse`` reads: a URL the two could read
  differently, or one with a backslash, whitespace, a control character or
  user information (``user@``) in it, is no address of the platform's
  (``http://evil\\@lms.example/`` reads as ``lms.example`` to one parser and
  connects to ``evil`` with the other). Line item ids and next-page links are
  checked with ``same_origin`` by their readers too.
- **What.** Only a 2xx status is an answer: a redirect (never followed) or an
  error is a ``StatusError``, which the callers turn into a failed call
  (pylti1p3 alone takes a 3xx for success).
- **How much, how long.** An answer is read at most ``MAX_ANSWER`` bytes, in
  chunks, against a deadline for the whole request (``DEADLINE`` seconds from
  its start, the socket's own time-out shortened to what is left), so a
  platform trickling a byte at a time cannot hold a push for longer; one
  session (one push) gives up after ``SESSION_DEADLINE`` seconds in all. Time
  is read from ``clock`` (monotonic), which tests replace.
"""
from __future__ import annotations

import time
from typing import Iterable
from urllib.parse import urlsplit

import requests
from requests.models import PreparedRequest
from urllib3.util import parse_url

from grader.platforms.lti.errors import PlatformError

MAX_ANSWER = 4 * 1024 * 1024   # a roster page of a large course is well below this
TIMEOUT = (5, 30)              # connect, and each wait for bytes (seconds)
DEADLINE = 60.0                # one request, from sending to the answer's last byte (seconds)
SESSION_DEADLINE = 3600.0      # one push, every request together (seconds)
CHUNK = 64 * 1024
USER_AGENT = "hml-grader-lti"
clock = time.monotonic         # replaced by tests that play a slow platform


class BadUrl(PlatformError):
    """A URL that is not a plain address of a platform (the message says why)."""


class StatusError(PlatformError):
    """The platform answered with a status other than 2xx."""

    def __init__(self, status: int):
        super().__init__(f"the platform answered HTTP {status}")
        self.status = status


def _shown(url: str) -> str:
    return repr(str(url)[:200])


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) as requests will connect to ``url``; ``BadUrl`` if it could be read two ways."""
    url = str(url)
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in url):
        raise BadUrl(f"{_shown(url)} holds a backslash, a space or a control character")
    try:
        prepared = PreparedRequest()
        prepared.prepare_url(url, None)
        connects = parse_url(prepared.url)
        read = urlsplit(url)
        read_port = read.port
    except (ValueError, requests.RequestException) as exc:
        raise BadUrl(f"{_shown(url)} is not a URL ({type(exc).__name__})") from None
    if "@" in read.netloc or connects.auth:
        raise BadUrl(f"{_shown(url)} carries user information (user@host)")
    scheme = (connects.scheme or "").lower()
    host = (connects.host or "").lower().strip("[]")
    if scheme not in ("http", "https") or not host:
        raise BadUrl(f"{_shown(url)} is not an http(s) URL")
    port = connects.port or {"https": 443, "http": 80}[scheme]
    if (read.scheme.lower(), (read.hostname or "").lower(), read_port or {"https": 443, "http": 80}[scheme]) != \
            (scheme, host, port):
        raise BadUrl(f"{_shown(url)} reads as two different addresses")
    return scheme, host, port


def same_origin(url: object, reference: str, what: str) -> str:
    """``url``, if it is a plain URL at ``reference``'s origin; otherwise a ``PlatformError`` naming ``what``."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise PlatformError(f"{what}: not a URL")
    try:
        if origin(url) == origin(reference):
            return url
    except BadUrl as exc:
        raise PlatformError(f"{what}: refused, {exc}") from None
    raise PlatformError(f"{what}: refused {_shown(url)}, not at the course's address {_shown(reference)}")


class BoundedSession(requests.Session):
    """A ``requests.Session`` that only talks to ``origins``, reads bounded answers and accepts only 2xx."""

    def __init__(self, allowed: Iterable[str], deadline: float | None = None,
                 session_deadline: float | None = None):
        super().__init__()
        self.allowed = {origin(url) for url in allowed}
        self.deadline = DEADLINE if deadline is None else deadline
        self.session_deadline = SESSION_DEADLINE if session_deadline is None else session_deadline
        self.started: float | None = None
        self.headers["User-Agent"] = USER_AGENT
        self.trust_env = False  # no proxy or .netrc credentials from the environment

    def request(self, method, url, *args, **kwargs):
        try:
            where = origin(str(url))
        except BadUrl as exc:
            raise PlatformError(f"refused to contact {exc}") from None
        if where not in self.allowed:
            raise PlatformError(f"refused to contact {_shown(url)}: not one of the platform's configured addresses")
        start = clock()
        if self.started is None:
            self.started = start
        if start - self.started > self.session_deadline:
            raise PlatformError(f"gave up: the platform's answers took more than {self.session_deadline:g} seconds "
                                "in all", unreachable=True)
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        response = super().request(method, url, *args, **kwargs)
        try:
            body = self._body(response, str(url), start + self.deadline)
        finally:
            response.close()
        if not 200 <= response.status_code < 300:
            raise StatusError(response.status_code)
        response._content = body  # what .json() and .text read from now on
        response._content_consumed = True
        return response

    def _body(self, response: requests.Response, url: str, deadline: float) -> bytes:
        """The answer's bytes, at most ``MAX_ANSWER``, all of them before ``deadline``."""
        try:
            declared = int(response.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_ANSWER:
            raise PlatformError(f"{url[:200]} answered with {declared} bytes, more than {MAX_ANSWER}")
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - clock()
            if left <= 0:
                raise PlatformError(f"{url[:200]} did not answer within {self.deadline:g} seconds", unreachable=True)
            _shorten_wait(response, left)
            try:
                chunk = response.raw.read1(CHUNK, decode_content=True)
            except Exception as exc:  # urllib3's own time-out and protocol errors, as requests would raise them
                raise requests.ConnectionError(f"reading the answer: {type(exc).__name__}") from None
            if not chunk:
                if clock() > deadline:
                    raise PlatformError(f"{url[:200]} did not answer within {self.deadline:g} seconds",
                                        unreachable=True)
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_ANSWER:
                raise PlatformError(f"{url[:200]} answered with more than {MAX_ANSWER} bytes")
            chunks.append(chunk)


def _shorten_wait(response: requests.Response, left: float) -> None:
    """Make the socket's wait for the next bytes no longer than what is left of the deadline (where it can be set)."""
    try:
        sock = response.raw._connection.sock
        current = sock.gettimeout()
        if current is None or current > left:
            sock.settimeout(max(left, 0.001))
    except (AttributeError, OSError):
        pass
