"""``hml check``: run an exercise's public tests on the learner's module or notebook, with feedback."""
from __future__ import annotations

from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.argument("exercise_id", required=False, metavar="[ID]")
@click.argument("path", required=False, type=click.Path(path_type=Path), metavar="[PATH]")
@click.option("--notebook", is_flag=True, help="Check the workspace's notebook (.ipynb) rather than its module file.")
@sandbox_options
@click.option("--results", "results_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON (Gradescope's results.json format) to this file.")
def check(exercise_id: str | None, path: Path | None, notebook: bool, sandbox: str, unsandboxed: bool,
          results_file: Path | None) -> None:
    """Run the public tests of exercise ID on PATH (your module file or notebook).

    Inside a folder made by `hml start`, both are optional: `hml check` checks
    that exercise's module there (or its notebook, if that is what you
    started with). The exercise is also found from PATH's file name when only
    one exercise uses it.

    Exit status 0 when every public test passes, 1 otherwise.
    """
    from grader.course.model import Course
    from grader.learner_tools.check import find_target

    course = Course()
    target = find_target(course, exercise_id, path, notebook)
    chosen = _sandbox(sandbox, unsandboxed)
    raise SystemExit(_check(course, target, chosen, results_file))


def _sandbox(sandbox: str, unsandboxed: bool):
    """It is the learner's own code: without a sandbox the check still runs, with a warning."""
    from grader.console import warn
    from grader.sandbox.launch import Sandbox, SandboxUnavailable, choose

    unsandboxed = unsandboxed or sandbox == "none"
    try:
        chosen = choose("none" if unsandboxed else sandbox)
    except SandboxUnavailable as exc:
        warn(f"{exc}: your code runs unsandboxed")
        return Sandbox.NONE
    if unsandboxed:
        warn("running your code without the sandbox (--sandbox none)")
    return chosen


def _check(course, target, sandbox, results_file: Path | None) -> int:
    """Run the check, show it, and give the exit status."""
    from rich.text import Text

    from grader.console import console, warn
    from grader.errors import ExitCode
    from grader.learner_tools.check import CheckEnd, display, public_points, run_check
    from grader.learner_tools.feedback import render_problems, render_result, render_summary

    exercise = target.exercise
    for warning in target.warnings:
        warn(warning)
    header = Text()
    header.append(f"{exercise.id}", style="bold")
    header.append(f": {exercise.title}")
    console.print(header)
    console.print(Text(f"Checking {display(target.path)} with the public tests"
                       f"{'' if sandbox.confines else ' (unsandboxed)'}…", style="dim"))
    console.print()

    outcome = run_check(target, sandbox, course=course, running=lambda: console.status("Running the public tests…"))
    if outcome.end is CheckEnd.UNREADABLE:
        console.print(Text(f"error: {target.path.name} cannot be read as a notebook: {outcome.unreadable}",
                           style="bold red"))
        console.print("    Save it again from Jupyter, or check the module file instead.")
        return ExitCode.FAILED
    render_problems(console, outcome.problems)
    if outcome.end is CheckEnd.NOT_RUN:
        console.print(Text(f"Public tests: 0/{public_points(exercise):g} points: no test could run.", style="bold"))
    else:
        render_result(console, outcome.result, exercise, outcome.source)
        render_summary(console, outcome.result)
    if results_file:
        outcome.result.write(results_file)
    return ExitCode.OK if outcome.end is CheckEnd.PASSED else ExitCode.FAILED
