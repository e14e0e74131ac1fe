"""A test LTI 1.3 platform and the servers the LTI tests run: both on loopback, both under waitress.

``servers()`` starts the platform (``platform.py``) and the real tool (``hml lti serve``'s server, made by
``grader.platforms.lti.server.make_server``) in threads of the test process, each on a free loopback port;
the tool's folder gets the platform's registration, as an instructor would write it.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from waitress import create_server

from grader.platforms.lti.app import ToolUrls
from grader.platforms.lti.config import ToolFolder
from grader.platforms.lti.server import make_server
from .platform import TestPlatform

__all__ = ["Servers", "TestPlatform", "servers", "login", "launch_through_platform", "listening"]


@dataclass
class Servers:
    platform: TestPlatform
    folder: ToolFolder
    tool: ToolUrls
    platform_server: object
    tool_server: object

    @property
    def context_file(self) -> Path:
        return self.folder.path / "context.json"

    platform_thread: threading.Thread | None = None

    def stop_platform(self) -> None:
        """The platform goes down: its port refuses connections from now on."""
        stop(self.platform_server, self.platform_thread)


def _serve(server) -> threading.Thread:
    """Serve in a thread whose loop checks a stop flag between short polls, so that stopping needs nothing but
    the flag: no write to the server's trigger pipe from another thread (a race on it once failed a teardown)."""
    from waitress import wasyncore

    server.stopping = threading.Event()

    def loop() -> None:
        while not server.stopping.is_set() and server._map:
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        wasyncore.close_all(server._map, ignore_all=True)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def stop(server, thread: threading.Thread) -> None:
    """Stop a waitress server from another thread: its loop closes everything it serves (listening socket, open
    connections, trigger) in its own thread and returns; then its request threads end."""
    server.stopping.set()
    thread.join(timeout=60)
    server.task_dispatcher.shutdown(timeout=10)


@contextmanager
def servers(tool_folder: Path, relink: bool = False):
    platform = TestPlatform()
    platform_server = create_server(platform.app(), host="127.0.0.1", port=0, threads=4)
    platform.base = f"http://127.0.0.1:{platform_server.effective_port}"
    folder = ToolFolder(tool_folder)
    (folder.path / "registration.toml").write_text(platform.registration_toml())
    tool_server = make_server(folder, "127.0.0.1", 0, relink=relink)
    urls = ToolUrls.under(tool_server.public_url)
    platform.tool_login_url, platform.tool_launch_url, platform.tool_jwks_url = urls.login, urls.launch, urls.jwks
    platform_thread, tool_thread = _serve(platform_server), _serve(tool_server)
    try:
        yield Servers(platform, folder, urls, platform_server, tool_server, platform_thread)
    finally:
        stop(tool_server, tool_thread)
        stop(platform_server, platform_thread)


def login(running: Servers, user: str = "teacher") -> tuple[requests.Session, str, str]:
    """Start a login at the tool as the platform would send a browser; the tool's state and nonce for it."""
    browser = requests.Session()
    answer = browser.get(running.tool.login, allow_redirects=False, timeout=30,
                         params={"iss": running.platform.issuer, "login_hint": user,
                                 "target_link_uri": running.tool.launch, "client_id": running.platform.client_id,
                                 "lti_deployment_id": running.platform.deployment_id})
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return browser, query["state"][0], query["nonce"][0]


def post_launch(running: Servers, browser: requests.Session, state: str, id_token: str) -> requests.Response:
    return browser.post(running.tool.launch, data={"id_token": id_token, "state": state}, allow_redirects=False,
                        timeout=30)


def launch_through_platform(running: Servers, user: str = "teacher") -> requests.Response:
    """A whole launch without a browser: the tool's login, the platform's auth answer, its form posted."""
    browser = requests.Session()
    start = browser.get(f"{running.platform.base}/launch", params={"user": user}, timeout=30)
    assert start.status_code == 200, start.text  # the platform's auto-posting form, after both redirects
    token = re.search(r"name='id_token' value='([^']+)'", start.text).group(1)
    state = re.search(r"name='state' value='([^']+)'", start.text).group(1)
    return post_launch(running, browser, state, token)


@contextmanager
def listening(host: str = "127.0.0.2"):
    """A port on another loopback address that keeps every byte sent to it: where a stolen token would land.

    Yields ``(port, received)``; ``received`` lists what each connection sent (nothing, if nobody came).
    """
    import socket

    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(8)
    listener.settimeout(0.2)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    received.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        done.set()
        thread.join(timeout=10)
        listener.close()


EXERCISES = ("hybrid_placement", "kfp_basic_pipeline")


def record_grade(book_path: Path, learner: str, exercise: str, points: float, maximum: float) -> None:
    """A graded run worth ``points`` of ``maximum``, as ``hml grade`` would record it (no grading needed)."""
    from grader.record.gradebook import Gradebook
    from grader.record.results import GradeResult
    from grader.record.results import TestResult as Outcome

    tests = [Outcome("earned", f"hidden::{exercise}::earned", points, points, "passed", "hidden"),
             Outcome("missed", f"hidden::{exercise}::missed", 0.0, maximum - points, "failed", "hidden")]
    with Gradebook(book_path) as book:
        book.record(learner, GradeResult(learner, exercise, tests, execution_time=1.0), submission=learner,
                    content_hash=f"{learner}-{exercise}-{points}", suite_hash="suite")
