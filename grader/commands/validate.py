"""``hml validate``: is every exercise fit to hand out and to grade? (``grader/instructor_tools/validation.py`` checks.)"""
from __future__ import annotations

import time
from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.argument("exercise_ids", nargs=-1, metavar="[ID]...")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Gradings run at once.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the gradings' results.json here (default: a temporary folder).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Batch cache of reference outputs, keyed on each test suite's hash (default: temporary).")
@sandbox_options
def validate(exercise_ids: tuple[str, ...], jobs: int, output_dir: Path | None, cache_dir: Path | None,
             sandbox: str, unsandboxed: bool) -> None:
    """Check every exercise (or the IDs given): reference earns full marks, starters do not.

    Exits 1 when any exercise has a problem.
    """
    from grader.commands.common import require_sandbox
    from grader.console import console
    from grader.course.model import Course
    from grader.errors import ExitCode
    from grader.instructor_tools.validation import exercises_to_validate, validate_course

    course = Course()
    ids = exercises_to_validate(course, list(exercise_ids))
    chosen = require_sandbox(sandbox, unsandboxed)
    started = time.monotonic()
    with console.status(f"Validating {len(ids)} exercise(s), {jobs} grading(s) at a time…") as status:
        count = [0]

        def done(job, result):
            count[0] += 1
            status.update(f"Validating {len(ids)} exercise(s): {count[0]} grading(s) done, "
                          f"last {job.exercise.id} {job.name} {result.score:g}/{result.max_score:g}")

        verdicts = validate_course(course, ids, sandbox=chosen, jobs=jobs, output_dir=output_dir,
                                   cache_root=cache_dir, on_done=done)
    elapsed = time.monotonic() - started
    _show(verdicts, elapsed)
    if any(not v.ok for v in verdicts):
        raise SystemExit(ExitCode.FAILED)


def _show(verdicts, elapsed: float) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from grader.console import console
    from grader.instructor_tools.validation import KINDS
    from grader.record.kinds import Outcome

    table = Table(title="Course validation", box=box.SIMPLE_HEAD)
    table.caption = ("ref, py, ipynb: the score of the reference, the starter module and the starter notebook; "
                     "tests: public+hidden/points; time: grading time, summed")
    for column in ("exercise", "ref", "py", "ipynb", "tests", "time", "status"):
        table.add_column(column, justify="right" if column == "time" else "left", no_wrap=True)
    for verdict in verdicts:
        cells = []
        for kind in KINDS:
            result = verdict.results.get(kind)
            if result is None:
                cells.append("[red]missing[/red]")
            elif result.outcome is not Outcome.GRADED:
                cells.append("[red]error[/red]")
            else:
                style = "green" if (kind == "reference") == (result.score == result.max_score) else "red"
                cells.append(f"[{style}]{result.score:g}/{result.max_score:g}[/{style}]")
        reference = verdict.results.get("reference")
        tests = "-"
        if reference is not None and reference.tests:
            hidden = sum(not t.public for t in reference.tests)
            tests = f"{len(reference.tests) - hidden}+{hidden}/{reference.max_score:g}"
        table.add_row(verdict.exercise, *cells, tests,
                      f"{verdict.seconds:.1f}s", "[green]OK[/green]" if verdict.ok else "[red]FAIL[/red]")
    console.print(table)
    for verdict in verdicts:
        for problem in verdict.problems:
            console.print(f"[red]✗[/red] {verdict.exercise}: {escape(problem)}", highlight=False)
        for warning in verdict.warnings:
            console.print(f"[yellow]![/yellow] {verdict.exercise}: {escape(warning)}", highlight=False)
    failed = [v.exercise for v in verdicts if not v.ok]
    console.print(f"validated {len(verdicts)} exercise(s) in {elapsed:.1f}s: "
                  + (f"[red]{len(failed)} with problems[/red] ({', '.join(failed)})" if failed else "[green]all OK[/green]"),
                  highlight=False)
