"""The cluster's shared key: tasks and results signed by the coordinator and the nodes, and no one else.

Whoever can write to the broker can put a task in a queue or an answer in a
task's result slot. So every task the coordinator sends and every answer a
node gives travels sealed: an HMAC-SHA256, under a key read from the file
``HML_CLUSTER_SECRET_FILE`` names, over the canonical JSON (sorted keys, no
whitespace) of what it says and of what it is (a task or a result), so a
signed task cannot pass for a result. Only the coordinator and the nodes
hold the key; the broker never sees it. Make one with::

    python -c 'import secrets; print(secrets.token_hex(32))' > cluster-secret; chmod 600 cluster-secret
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError

SECRET_ENV = "HML_CLUSTER_SECRET_FILE"
MIN_SECRET_BYTES = 32  # what `secrets.token_hex(16)` gives; the documented recipe makes 64


class NoClusterSecret(GraderError):
    """The coordinator or a node started without the cluster's key, or with one too short to trust."""


class BadSeal(ValueError):
    """A sealed message that this key did not sign, or that is not a sealed message at all."""


class Purpose(enum.Enum):
    TASK = "task"      # coordinator to node
    RESULT = "result"  # node to coordinator


def canonical(value: object) -> bytes:
    """The one byte form of a JSON value that both sides sign."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


@dataclass(frozen=True)
class ClusterKey:
    secret: bytes = field(repr=False)

    @classmethod
    def from_environment(cls) -> "ClusterKey":
        """The key in the file ``HML_CLUSTER_SECRET_FILE`` names; both sides refuse to start without it."""
        name = os.environ.get(SECRET_ENV)
        recipe = (f"make one with `python -c 'import secrets; print(secrets.token_hex(32))' > FILE; chmod 600 FILE`, "
                  f"give the coordinator and every node a copy, and set {SECRET_ENV}=FILE")
        if not name:
            raise NoClusterSecret(f"the cluster needs a shared key to sign tasks and results: {recipe}")
        try:
            secret = Path(name).read_bytes().strip()
        except OSError as exc:
            raise NoClusterSecret(f"cannot read the cluster's key from {SECRET_ENV} ({exc.strerror}): {recipe}") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise NoClusterSecret(f"the cluster's key in {SECRET_ENV} is shorter than {MIN_SECRET_BYTES} "
                                  f"characters: {recipe}")
        return cls(secret)

    def signature(self, purpose: Purpose, body: dict) -> str:
        return hmac.new(self.secret, canonical({"purpose": purpose.value, "body": body}), hashlib.sha256).hexdigest()

    def seal(self, purpose: Purpose, body: dict) -> dict:
        """``body`` with its signature, as it travels."""
        return {"purpose": purpose.value, "body": body, "signature": self.signature(purpose, body)}

    def open(self, purpose: Purpose, sealed: object) -> dict:
        """The body of ``sealed`` if this key signed it for ``purpose``; ``BadSeal`` (saying why) otherwise."""
        if not isinstance(sealed, dict) or set(sealed) != {"purpose", "body", "signature"}:
            raise BadSeal("not a sealed message (no signature)")
        body, signature = sealed["body"], sealed["signature"]
        if sealed["purpose"] != purpose.value or not isinstance(body, dict) or not isinstance(signature, str):
            raise BadSeal(f"not a sealed {purpose.value}")
        try:
            expected = self.signature(purpose, body)
        except (TypeError, ValueError):
            raise BadSeal("a body that is not plain JSON") from None
        if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
            raise BadSeal("a signature that is not the cluster key's")
        return body
