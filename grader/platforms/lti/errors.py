"""What can go wrong between the grader and an LMS, as one-line errors."""
from __future__ import annotations

from grader.errors import GraderError


class LtiError(GraderError):
    """The LTI tool or a push cannot do what was asked."""


class ConfigError(LtiError):
    """The tool's folder (registration, keys, course context) is missing, unsafe or malformed."""


class NotLinked(LtiError):
    """No course has been linked yet: nothing says where grades go."""


class PlatformError(LtiError):
    """The platform could not be reached, or answered with an error or with something unreadable."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable  # no answer at all: the next call would fare no better


class PushIncomplete(LtiError):
    """Some grades were not sent; they are recorded as failed and the next push retries them."""
