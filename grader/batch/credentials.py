"""Where the broker's URL comes from: a file or the environment, never a command line.

Any process on a node can read every other process's command line
(``/proc/PID/cmdline``), learner code in a Landlock sandbox included, so a
password there is a password given away. ``hml worker`` and the batch
commands read the URL from ``--broker-file FILE`` (or ``HML_BROKER_FILE``)
or from ``HML_BROKER``; ``--broker URL`` stays for a broker without a
password (a laptop, a test) and refuses a URL that carries one.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from grader.errors import ExitCode, GraderError

BROKER_ENV = "HML_BROKER"
BROKER_FILE_ENV = "HML_BROKER_FILE"


class BrokerCredentials(GraderError):
    """A broker URL given where it would be seen, or a broker file that cannot be read."""

    exit_code = ExitCode.USAGE
    param_hint = "--broker"


def has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:  # a malformed port: not ours to judge here; the broker check says what is wrong
        return "@" in url


def broker_url(option: str | None, file: Path | None) -> str | None:
    """The broker's URL: ``--broker`` (refused with a password), else the first line of ``file``
    (``--broker-file`` or ``HML_BROKER_FILE``), else ``HML_BROKER``; None when none is given."""
    if option:
        if has_password(option):
            raise BrokerCredentials(f"--broker would show the broker's password to every process on this "
                                    f"machine: put the URL in a file for --broker-file (or {BROKER_FILE_ENV}), "
                                    f"or in {BROKER_ENV}")
        return option
    if file is not None:
        try:
            lines = Path(file).read_text().split()
        except (OSError, UnicodeDecodeError) as exc:
            error = BrokerCredentials(f"cannot read the broker's URL from {file} ({type(exc).__name__})")
            error.param_hint = "--broker-file"
            raise error from None
        return lines[0] if lines else None
    return os.environ.get(BROKER_ENV) or None


def shown(url: str) -> str:
    """``url`` as it may be printed: its password replaced by ``***``."""
    if not has_password(url):
        return url
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
