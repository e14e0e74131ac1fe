"""What can go wrong on the learner's side of the boundary, as exceptions tests can catch."""
from __future__ import annotations

import builtins
import re
from enum import IntEnum


class ExitCode(IntEnum):
    """The exit statuses of ``hml`` commands, decided here and nowhere else."""

    OK = 0
    FAILED = 1       # the command could not do its work, or what it checked fails (tests, a leak, the course)
    USAGE = 2        # click's own status for a wrong argument
    INTERRUPTED = 130  # what shells report for Ctrl-C


class GraderError(Exception):
    """Base of the grader's own errors; the message is meant for a person.

    A command lets these escape: ``grader.cli`` prints the message and exits
    with ``exit_code``, the one path from an error to an exit status.
    ``param_hint`` names the option or argument at fault, if one is.
    """

    exit_code: ExitCode = ExitCode.FAILED
    param_hint: str | None = None


class LearnerError(GraderError):
    """The learner's code raised.

    ``type_name`` is safe to show anywhere: a built-in exception's name (the
    nearest built-in base of the learner's class) or ``"Exception"``; a class
    name the learner made up could spell out hidden inputs. ``raw_type_name``
    is the class's own name, for visible feedback only.
    """

    def __init__(self, type_name: str, message: str, traceback: str = "", function: str | None = None,
                 raw_type_name: str | None = None):
        super().__init__(message)
        self.type_name = type_name
        self.raw_type_name = raw_type_name or type_name
        self.message = message
        self.traceback = traceback
        self.function = function

    def __str__(self) -> str:
        where = f"`{self.function}` raised " if self.function else ""
        kind = self.raw_type_name
        return f"{where}{kind}: {self.message}" if self.message else f"{where}{kind}"


_BUILTIN_ERRORS = {
    name: value for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")
}
# Names shown as they are besides the built-in ones: the grader's own, and the
# libraries' errors that feedback explains. Any other name a learner's class
# has is shown as its nearest built-in base.
_KNOWN_ERRORS = {"WireError", "DefaultCredentialsError", "GoogleAuthError", "ConverterError"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,79}$")
_classes: dict[str, type] = {}


def learner_error(type_name: str, message: str, traceback: str = "", function: str | None = None,
                  builtin: str | None = None) -> LearnerError:
    """A ``LearnerError`` that is also an instance of the built-in type it names, if any.

    Tests can then write ``pytest.raises(ValueError)`` around a proxied call.
    ``builtin`` is the nearest built-in base the worker reported; like every
    answer it is checked, never trusted.
    """
    raw = type_name if _IDENTIFIER.match(type_name or "") else "Exception"
    if raw in _BUILTIN_ERRORS or raw in _KNOWN_ERRORS:
        type_name = raw
    elif builtin in _BUILTIN_ERRORS:
        type_name = builtin
    else:
        type_name = "Exception"
    base = _BUILTIN_ERRORS.get(type_name)
    if base is None or not issubclass(base, Exception):
        return LearnerError(type_name, message, traceback, function, raw)
    cls = _classes.get(type_name)
    if cls is None:
        try:
            cls = type(f"Learner{type_name}", (LearnerError, base), {"__init__": LearnerError.__init__,
                                                                     "__str__": LearnerError.__str__})
            cls(type_name, "", "", None, None)  # some built-ins (UnicodeDecodeError, ExceptionGroup) need more
        except TypeError:
            cls = LearnerError
        _classes[type_name] = cls
    return cls(type_name, message, traceback, function, raw)


class ModuleImportFailed(GraderError):
    """The learner's module could not be imported; every test that needs it fails the same way."""


class WorkerCrashed(GraderError):
    """The worker process died during a call."""


class WorkerTimeout(GraderError):
    """A call took longer than its wall-clock limit; the worker was killed."""


class WorkerProtocolError(GraderError):
    """The worker answered with something that is not a valid message."""
