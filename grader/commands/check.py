"""``hml check``: run an exercise's public tests on the learner's module or notebook, with feedback."""
from __future__ import annotations

from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.argument("exercise_id", required=False, metavar="[ID]")
@click.argument("path", required=False, type=click.Path(path_type=Path), metavar="[PATH]")
@click.option("--notebook", is_flag=True, help="Check the workspace's notebook (.ipynb) rather than its module file.")
@click.option("--hint", "hint_test", metavar="TEST",
              help="Show the next hint of public test TEST (its name, or its number in the list of hints); "
                   "runs no test.")
@sandbox_options
@click.option("--results", "results_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON (Gradescope's results.json format) to this file.")
def check(exercise_id: str | None, path: Path | None, notebook: bool, hint_test: str | None, sandbox: str,
          unsandboxed: bool, results_file: Path | None) -> None:
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
    if hint_test is not None:
        raise SystemExit(_hint(target, hint_test))
    raise SystemExit(_check(course, target, _sandbox(sandbox, unsandboxed), results_file))


def _sandbox(sandbox: str, unsandboxed: bool):
    """It is the learner's own code: without a sandbox the check still runs, with a warning."""
    from grader.console import warn
    from grader.learner_tools.check import choose_sandbox

    chosen, warnings = choose_sandbox(sandbox, unsandboxed)
    for warning in warnings:
        warn(warning)
    return chosen


def _hint(target, test: str) -> int:
    from grader.console import console
    from grader.learner_tools.feedback import render_hint_step
    from grader.learner_tools.hint_tiers import HintTiers

    tiers = HintTiers.of(target.exercise, target.workspace.directory if target.workspace else None)
    step = tiers.next(test)
    console.print(f"{target.exercise.id}: {step.test}")
    render_hint_step(console, step, indent=2)
    if step.last:
        console.print("  (that is the last hint for this test)", style="dim")
    return 0


def _check(course, target, sandbox, results_file: Path | None) -> int:
    """Run the check, show it, and give the exit status."""
    from rich.text import Text

    from grader.console import console, warn
    from grader.errors import ExitCode
    from grader.learner_tools.check import CheckEnd, display, run_check
    from grader.learner_tools.check_view import check_view
    from grader.learner_tools.feedback import render_check
    from grader.learner_tools.hint_tiers import HintTiers

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
    tiers = HintTiers.of(exercise, target.workspace.directory if target.workspace else None)
    render_check(console, check_view(outcome, tiers, display(target.path)))
    if results_file and outcome.result is not None:
        outcome.result.write(results_file)
    return ExitCode.OK if outcome.end is CheckEnd.PASSED else ExitCode.FAILED
