"""OIDC state and nonce, kept on the server and taken once.

pylti1p3 keeps both where its session service puts them (by default the
Flask session, a cookie) and, once a launch passed, accepts the same state
and id_token again (for browsers that reload the launch). Here the login
stores the nonce it issued under its state in this process, and the launch
takes that entry out: a replayed id_token, or a token carrying a nonce of
another login, finds nothing and is refused. The store is bounded in size
and age, so a flood of login requests costs memory only up to a limit.
"""
from __future__ import annotations

import threading
import time
import typing as t
from collections import OrderedDict

from pylti1p3.contrib.flask import FlaskSessionService

LIFETIME = 600     # seconds from login to launch: a person clicking through, not a batch
CAPACITY = 10_000  # logins pending at once; beyond that the oldest is forgotten


class OneTimeStore:
    """Values put once and taken once, forgotten after ``lifetime`` seconds or when ``capacity`` is reached."""

    def __init__(self, lifetime: float = LIFETIME, capacity: int = CAPACITY,
                 clock: t.Callable[[], float] = time.monotonic):
        self.lifetime, self.capacity, self.clock = lifetime, capacity, clock
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()  # waitress serves requests from several threads

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._forget_expired()
            self._items[key] = (self.clock() + self.lifetime, value)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def take(self, key: str) -> object | None:
        with self._lock:
            self._forget_expired()
            found = self._items.pop(key, None)
        return None if found is None else found[1]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _forget_expired(self) -> None:
        now = self.clock()
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now:
                break
            del self._items[key]


class ServerSideSession(FlaskSessionService):
    """pylti1p3's session service, over a ``OneTimeStore`` instead of the Flask (cookie) session.

    One instance serves one request. The login saves the nonce, then the state (``save_state_params``,
    called because the login passes a parameter to the launch): the pair goes into the store. The launch
    takes the state's nonce back with ``take_login``; nothing else is kept (the launch data pylti1p3 would
    cache is not needed: the tool stores only the course's context, on disk).
    """

    def __init__(self, request, store: OneTimeStore):
        super().__init__(request)
        self.store = store
        self._nonce: str | None = None

    def save_nonce(self, nonce: str) -> None:
        self._nonce = nonce

    def check_nonce(self, nonce: str) -> bool:
        return False  # the launch checks the nonce against its state's (grader.platforms.lti.launch)

    def save_state_params(self, state: str, params) -> None:
        if self._nonce is None:
            raise RuntimeError("the login saves the nonce before the state")
        self.store.put(state, self._nonce)

    def get_state_params(self, state: str):
        return {}

    def take_login(self, state: str) -> str | None:
        """The nonce issued with ``state``, if that login is pending; it is pending no more."""
        nonce = self.store.take(state)
        return nonce if isinstance(nonce, str) else None

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False  # never accept a state a second time (the library's re-launch path)

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        pass

    def save_launch_data(self, key: str, jwt_body) -> None:
        pass

    def get_launch_data(self, key: str):
        return None
