"""``hml lti serve``: the web tool under waitress, a production WSGI server.

waitress bounds what Flask's own limits cannot see (headers, and a body
before it reaches the app) and serves several requests at once. The public
URL is where the LMS reaches the tool: behind a TLS proxy it is https while
waitress listens on plain http, and waitress is told so (``url_scheme``),
which makes the state cookie ``Secure; SameSite=None`` as an LMS iframe needs.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from grader.platforms.lti.app import MAX_REQUEST, ToolUrls, create_app
from grader.platforms.lti.config import ToolFolder

MAX_HEADERS = 32 * 1024


def make_server(folder: ToolFolder, host: str, port: int, public_url: str | None = None, relink: bool = False):
    """A waitress server for the tool, bound but not yet serving (``.run()``).

    ``relink``: a launch from another course may replace the linked one (``hml lti serve --relink``).
    The socket is bound first, so that port 0 (any free port, as the tests ask) is known before the app,
    whose URLs name it, is made.
    """
    import socket

    from waitress import create_server

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    bound = listening.getsockname()[1]
    public = public_url or f"http://{host if family == socket.AF_INET else f'[{host}]'}:{bound}"
    app = create_app(folder, public, relink=relink)
    server = create_server(app, sockets=[listening], url_scheme=urlsplit(public).scheme or "http",
                           max_request_body_size=MAX_REQUEST, max_request_header_size=MAX_HEADERS,
                           threads=4, ident="hml-lti")
    server.public_url = public
    return server


def urls(public_url: str) -> ToolUrls:
    return ToolUrls.under(public_url)
