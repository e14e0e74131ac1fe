"""The tool's folder: the LMS registration, the tool's key and the linked course's context.

Everything here is the instructor's alone: the folder is 0700 and every file
0600, created that way (never widened, then narrowed). The private key is
read from this folder and nowhere else, and never written anywhere else; a
key file others can read is refused, as ssh refuses one, since it may
already have leaked.

- ``registration.toml``: what the LMS shows when the tool is registered
  (issuer, client id, deployment ids, its OIDC auth, token and JWKS URLs),
  written by the instructor (docs/lms.md).
- ``tool-key.pem``: the tool's RSA key, made on first use; its public half is
  what the tool's JWKS endpoint serves.
- ``context.json``: the course a verified instructor launch linked (service
  URLs, deployment), written by the tool, read by ``hml lti push``.
"""
from __future__ import annotations

import ipaddress
import json
import os
import stat
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from grader.platforms.lti.errors import ConfigError, NotLinked

REGISTRATION = "registration.toml"
KEY = "tool-key.pem"
CONTEXT = "context.json"
MAX_FILE = 64 * 1024   # every file here is small: a bigger one is not ours
MAX_URL = 2048
MAX_ID = 255


def default_folder() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("hml")) / "lti"


def checked_url(value: object, what: str) -> str:
    """A service URL the tool may send a bearer token or a key to: https, or http to this machine only."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise ConfigError(f"{what}: not a URL")
    from grader.platforms.lti.http import BadUrl, origin

    try:
        origin(value)  # read as requests will connect: a URL two parsers read differently is no URL here
    except BadUrl as exc:
        raise ConfigError(f"{what}: {exc}") from None
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return value  # a platform on this machine (a test platform, a local Moodle)
    raise ConfigError(f"{what}: {value[:200]!r} is not an https URL")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID or not value.isprintable():
        raise ConfigError(f"{what}: not an identifier")
    return value


@dataclass(frozen=True)
class Registration:
    """The tool as the LMS registered it: who signs launches, and where its endpoints are."""

    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...]
    auth_login_url: str     # the platform's OIDC authorization endpoint
    token_url: str          # the platform's OAuth2 token endpoint (client credentials)
    jwks_url: str           # the platform's public keys
    token_audience: str = ""  # the token endpoint's audience, when the LMS names one other than its URL

    @classmethod
    def from_toml(cls, data: dict, source: Path) -> "Registration":
        try:
            deployments = data.get("deployment_ids", [])
            if not isinstance(deployments, list) or not deployments:
                raise ConfigError("deployment_ids: give the deployment id(s) the LMS shows, as a list")
            return cls(issuer=checked_id(data.get("issuer"), "issuer"),
                       client_id=checked_id(data.get("client_id"), "client_id"),
                       deployment_ids=tuple(checked_id(d, "deployment_ids") for d in deployments),
                       auth_login_url=checked_url(data.get("auth_login_url"), "auth_login_url"),
                       token_url=checked_url(data.get("token_url"), "token_url"),
                       jwks_url=checked_url(data.get("jwks_url"), "jwks_url"),
                       token_audience=str(data.get("token_audience") or ""))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def tool_conf(self) -> dict:
        """The registration as pylti1p3's ``ToolConfDict`` reads it (one client id for this issuer)."""
        conf = {"client_id": self.client_id, "auth_login_url": self.auth_login_url, "auth_token_url": self.token_url,
                "key_set_url": self.jwks_url, "deployment_ids": list(self.deployment_ids)}
        if self.token_audience:
            conf["auth_audience"] = self.token_audience
        return {self.issuer: conf}


@dataclass(frozen=True)
class CourseContext:
    """The course a verified instructor launch linked: where its grades and roster are."""

    issuer: str
    client_id: str
    deployment_id: str
    token_url: str
    lineitems_url: str                 # AGS line items container
    memberships_url: str               # NRPS context membership
    scopes: tuple[str, ...] = ()       # the AGS scopes the platform granted
    context_id: str = ""
    context_title: str = ""
    linked_by: str = ""                # the launching instructor's platform id
    linked_at: str = ""

    @classmethod
    def from_json(cls, data: object, source: Path) -> "CourseContext":
        try:
            if not isinstance(data, dict):
                raise ConfigError("not an object")
            scopes = data.get("scopes", [])
            return cls(issuer=checked_id(data.get("issuer"), "issuer"),
                       client_id=checked_id(data.get("client_id"), "client_id"),
                       deployment_id=checked_id(data.get("deployment_id"), "deployment_id"),
                       token_url=checked_url(data.get("token_url"), "token_url"),
                       lineitems_url=checked_url(data.get("lineitems_url"), "lineitems_url"),
                       memberships_url=checked_url(data.get("memberships_url"), "memberships_url"),
                       scopes=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
                       context_id=str(data.get("context_id", ""))[:MAX_ID],
                       context_title=str(data.get("context_title", ""))[:MAX_ID],
                       linked_by=str(data.get("linked_by", ""))[:MAX_ID],
                       linked_at=str(data.get("linked_at", ""))[:64])
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None


@dataclass
class ToolFolder:
    """The tool's folder, made private on first use."""

    path: Path
    _key_pem: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path).expanduser()
        self._private_folder()

    # -- the folder and its files --------------------------------------------------------------
    def _private_folder(self) -> None:
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.stat(self.path, follow_symlinks=False)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be used as the LTI folder ({exc.strerror})") from None
        if not stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{self.path}: not a folder")
        if info.st_uid != os.geteuid():
            raise ConfigError(f"{self.path}: belongs to another user; the LTI folder must be yours alone")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(self.path, 0o700)  # ours: narrowed before any secret goes in

    def _read(self, name: str, *, secret: bool = False) -> bytes | None:
        target = self.path / name
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{target}: cannot be read ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as stream:
            info = os.fstat(stream.fileno())
            if secret and stat.S_IMODE(info.st_mode) & 0o077:
                raise ConfigError(f"{target}: others can read it; it may have leaked (chmod 600 it, or remove it "
                                  "to make a new key and register that one)")
            data = stream.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise ConfigError(f"{target}: larger than {MAX_FILE} bytes")
        return data

    def _write(self, name: str, data: bytes) -> None:
        """Write a file as 0600 from its first byte, then move it in place (never half-written)."""
        target = self.path / name
        partial = self.path / f".{name}.{os.getpid()}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    # -- registration ---------------------------------------------------------------------------
    def registration(self) -> Registration | None:
        data = self._read(REGISTRATION)
        if data is None:
            return None
        try:
            parsed = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.path / REGISTRATION}: not TOML ({exc})") from None
        return Registration.from_toml(parsed, self.path / REGISTRATION)

    def require_registration(self) -> Registration:
        registration = self.registration()
        if registration is None:
            raise ConfigError(f"{self.path / REGISTRATION} does not exist: register the tool in the LMS and write "
                              "what it shows there (docs/lms.md)")
        return registration

    # -- the tool's key -------------------------------------------------------------------------
    def private_key_pem(self) -> str:
        """The tool's private key (PEM), made on first use; it stays in this folder."""
        if self._key_pem is None:
            data = self._read(KEY, secret=True)
            if data is None:
                data = _new_key()
                self._write(KEY, data)
            self._key_pem = data.decode("ascii")
        return self._key_pem

    def public_key_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(self.private_key_pem().encode("ascii"), password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    # -- the linked course ----------------------------------------------------------------------
    def save_context(self, context: CourseContext) -> None:
        self._write(CONTEXT, json.dumps(asdict(context), indent=2).encode("utf-8"))

    def context(self) -> CourseContext:
        data = self._read(CONTEXT)
        if data is None:
            raise NotLinked(f"no course is linked in {self.path}: start `hml lti serve` and launch the tool once "
                            "from the course as an instructor (docs/lms.md)")
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            raise ConfigError(f"{self.path / CONTEXT}: not JSON") from None
        return CourseContext.from_json(parsed, self.path / CONTEXT)


def _new_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
