"""The ``hml`` command line: thin click commands over the engine.

Commands are imported only when run, so ``hml --help`` and the quiz
commands never import TensorFlow, kfp or aiplatform. Commands raise the
grader's own errors (``grader.errors.GraderError``); the group turns each into
click's error with the exit status the error names, in one place.
"""
from __future__ import annotations

import importlib

import click

from grader.errors import ExitCode, GraderError


class GraderGroup(click.Group):
    """A click group whose commands' grader errors become click's, with their exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            raise click_error(exc) from None


class LazyGroup(GraderGroup):
    """A click group whose commands live in modules imported on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module_name, attribute = self.lazy[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)


def click_error(exc: GraderError) -> click.ClickException:
    """The click error a grader error is shown as: its message, and its exit status.

    Usage errors go without a usage line: by now the command's own context is
    gone, and the group's usage would point at the wrong help.
    """
    if exc.exit_code == ExitCode.USAGE:
        if exc.param_hint:
            return click.BadParameter(str(exc), param_hint=exc.param_hint)
        return click.UsageError(str(exc))
    error = click.ClickException(str(exc))
    error.exit_code = int(exc.exit_code)
    return error


COMMANDS = {
    "grade": "grader.commands.grade:grade",
    "grade-course": "grader.commands.grade_course:grade_course",
    "gradebook": "grader.commands.gradebook:gradebook",
    "report": "grader.commands.report:report",
    "similarity": "grader.commands.similarity:similarity",
    "release": "grader.commands.release:release",
    "validate": "grader.commands.validate:validate",
    "notebooks": "grader.commands.notebooks:notebooks",
    "list": "grader.commands.list:list_exercises",
    "start": "grader.commands.start:start",
    "check": "grader.commands.check:check",
    "collect": "grader.commands.collect:collect",
    "coursera": "grader.commands.coursera:coursera",
    "gradescope": "grader.commands.gradescope:gradescope",
    "quiz": "grader.commands.quiz:quiz",
    "worker": "grader.commands.worker:worker",
    "lti": "grader.commands.lti:lti",
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="hml-grader")
def main() -> None:
    """Exercises, sandboxed grading and self-check quizzes for Building Hybrid ML Systems."""


if __name__ == "__main__":
    main()
