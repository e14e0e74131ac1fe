"""What can go wrong on the learner's side of the boundary, as exceptions tests can catch."""
from __future__ import annotations

import builtins


class GraderError(Exception):
    """Base of the grader's own errors; the message is meant for a person."""


class LearnerError(GraderError):
    """The learner's code raised. ``type_name`` is the exception's class name, as text."""

    def __init__(self, type_name: str, message: str, traceback: str = "", function: str | None = None):
        super().__init__(message)
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.function = function

    def __str__(self) -> str:
        where = f"`{self.function}` raised " if self.function else ""
        return f"{where}{self.type_name}: {self.message}" if self.message else f"{where}{self.type_name}"


_BUILTIN_ERRORS = {
    name: value for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception) and not name.startswith("_")
}
_classes: dict[str, type] = {}


def learner_error(type_name: str, message: str, traceback: str = "", function: str | None = None) -> LearnerError:
    """A ``LearnerError`` that is also an instance of the built-in type it names, if any.

    Tests can then write ``pytest.raises(ValueError)`` around a proxied call.
    """
    base = _BUILTIN_ERRORS.get(type_name)
    if base is None:
        return LearnerError(type_name, message, traceback, function)
    cls = _classes.get(type_name)
    if cls is None:
        cls = type(f"Learner{type_name}", (LearnerError, base), {"__init__": LearnerError.__init__,
                                                                 "__str__": LearnerError.__str__})
        _classes[type_name] = cls
    return cls(type_name, message, traceback, function)


class ModuleImportFailed(GraderError):
    """The learner's module could not be imported; every test that needs it fails the same way."""


class WorkerCrashed(GraderError):
    """The worker process died during a call."""


class WorkerTimeout(GraderError):
    """A call took longer than its wall-clock limit; the worker was killed."""


class WorkerProtocolError(GraderError):
    """The worker answered with something that is not a valid message."""
