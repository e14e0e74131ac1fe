"""``hml gradebook``: export grades, look at a learner's history, override and fill rubric points, see a regrade's changes."""
from __future__ import annotations

from pathlib import Path

import click

from grader.cli import GraderGroup
from grader.commands.report import assignment_options, chosen


def _location(command):
    command = click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="The SQLite gradebook [default: OUTPUT_DIR/gradebook.sqlite].")(command)
    return click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("hml-results"), show_default=True,
                        help="The grading output directory holding the gradebook.")(command)


def _open(output_dir: Path, gradebook_path: Path | None):
    from grader.record.gradebook import open_existing

    return open_existing(gradebook_path, output_dir)


@click.group(cls=GraderGroup)
def gradebook() -> None:
    """The gradebook: every grading run, with history (SQLite)."""


@gradebook.command()
@_location
@click.option("--format", "fmt", type=click.Choice(["csv", "nbgrader-csv", "json", "canvas"]), default="csv",
              show_default=True,
              help="csv: one row per learner, a column per exercise and the total (nbgrader's column names "
                   "where they apply); nbgrader-csv: nbgrader's grades.csv, a row per learner and exercise; "
                   "canvas: a CSV for Canvas's gradebook import (docs/platforms.md).")
@click.option("--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@assignment_options
def export(output_dir: Path, gradebook_path: Path | None, fmt: str, out: Path | None, assignment_file: Path | None,
           exercises: tuple[str, ...]) -> None:
    """Export the current grades (each learner's latest run of each exercise).

    csv, nbgrader-csv and json count the assigned exercises only, each at its full points.
    """
    assignment = chosen(assignment_file, exercises)
    with _open(output_dir, gradebook_path) as book:
        assignment.check_learners(book.learners())
        if fmt == "canvas":
            from grader.platforms.canvas import export as canvas_csv

            text = canvas_csv(book, assignment)
        else:
            from grader.record import exports

            text = {"csv": exports.export_csv, "nbgrader-csv": exports.export_nbgrader_csv,
                    "json": exports.export_json}[fmt](book, assignment)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        click.echo(f"wrote {out}")


@gradebook.command()
@_location
@click.argument("learner", required=False)
@click.option("--exercise", "-e", help="Only this exercise.")
@click.option("--hashes", is_flag=True, help="Also show each run's content and test-suite hashes.")
@click.option("--tests", "with_tests", is_flag=True,
              help="Also list the tests of each learner's latest run: names, node ids (what --test of "
                   "`override` takes), points.")
def history(output_dir: Path, gradebook_path: Path | None, learner: str | None, exercise: str | None,
            hashes: bool, with_tests: bool) -> None:
    """Every grading run, oldest first (of LEARNER, if given), then every override and rubric point set."""
    from grader.console import console
    from grader.record import adjustments as adjusting
    from grader.record.report.terminal import adjustments_table, history_table, tests_table

    with _open(output_dir, gradebook_path) as book:
        runs = book.history(learner, exercise)
        adjustments = adjusting.history(book, learner, exercise)
        shown = {run.id for run in runs}
        latest = [run for run in book.latest() if run.id in shown] if with_tests else []
    console.print(history_table(runs, hashes=hashes))
    for run in latest:
        console.print(tests_table(run))
    if adjustments:
        console.print(adjustments_table(adjustments))


@gradebook.command()
@_location
def info(output_dir: Path, gradebook_path: Path | None) -> None:
    """Where the gradebook is, its schema version and what it holds."""
    from grader.console import console

    with _open(output_dir, gradebook_path) as book:
        latest = book.latest(tests=False)
        console.print(f"{book.path}: schema version {book.version}, {book.count_runs()} run(s), "
                      f"{len({r.learner for r in latest})} learner(s), {len({r.exercise for r in latest})} "
                      f"exercise(s)", highlight=False)


@gradebook.command()
@_location
@click.argument("learner")
@click.argument("exercise")
@click.option("--points", type=float, help="The exercise's final points (or the test's, with --test).")
@click.option("--reason", help="Why: shown on the learner's page and in every export.")
@click.option("--test", "test_name", metavar="NAME", help="Override this test's points instead of the exercise's.")
@click.option("--remove", is_flag=True, help="Remove the override (of the exercise, or of --test).")
@click.option("--by", "who", help="Who sets it [default: your login].")
@assignment_options
def override(output_dir: Path, gradebook_path: Path | None, learner: str, exercise: str, points: float | None,
             reason: str | None, test_name: str | None, remove: bool, who: str | None, assignment_file: Path | None,
             exercises: tuple[str, ...]) -> None:
    """Set (or --remove) LEARNER's final points for EXERCISE, or one test's, with a reason.

    An override outlives regrades: a new run changes the tests' points, the override still holds.
    """
    from grader.record.adjustments import set_override

    assignment = chosen(assignment_file, exercises)
    with _open(output_dir, gradebook_path) as book:
        assignment.check_learners(book.learners())  # a bad assignment file records nothing
        click.echo(set_override(book, assignment, learner, exercise, points=points, reason=reason, test=test_name,
                                remove=remove, who=who))


@gradebook.command()
@_location
@click.argument("learner", required=False)
@click.argument("exercise", required=False)
@click.argument("item", required=False)
@click.option("--points", type=float, help="The item's points (at most what the assignment declares).")
@click.option("--reason", default="", help="A comment for the learner.")
@click.option("--from-csv", "from_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fill many: a CSV with learner,exercise,item,points[,reason] columns.")
@click.option("--by", "who", help="Who gives them [default: your login].")
@assignment_options
def rubric(output_dir: Path, gradebook_path: Path | None, learner: str | None, exercise: str | None,
           item: str | None, points: float | None, reason: str, from_csv: Path | None, who: str | None,
           assignment_file: Path | None, exercises: tuple[str, ...]) -> None:
    """Give rubric points: LEARNER EXERCISE ITEM --points P, or many --from-csv FILE.

    Items are declared in the assignment file ([rubric.EXERCISE]); their points add to the exercise's.
    """
    from grader.record.adjustments import fill_rubric, rubric_rows

    assignment = chosen(assignment_file, exercises)
    with _open(output_dir, gradebook_path) as book:
        assignment.check_learners(book.learners())  # a bad assignment file records nothing
        rows = rubric_rows(from_csv, learner, exercise, item, points, reason)
        click.echo(fill_rubric(book, assignment, rows, who=who))


@gradebook.command()
@_location
@click.option("--exercise", "-e", help="Only this exercise.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Also list regraded submissions whose results did not change.")
def diff(output_dir: Path, gradebook_path: Path | None, exercise: str | None, as_json: bool, show_all: bool) -> None:
    """What the latest regrade under new tests changed: old and new points, and the tests that flipped."""
    import dataclasses
    import json

    from grader.console import console
    from grader.learner_text import for_console
    from grader.record.regrades import regrade_diffs, stale_test_overrides
    from grader.record.report.terminal import diff_table

    with _open(output_dir, gradebook_path) as book:
        diffs = regrade_diffs(book, exercise)
        stale = stale_test_overrides(book, exercise)
    shown = [d for d in diffs if show_all or d.changed]
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(d) for d in shown], indent=2))
        return
    if not diffs:
        console.print("No submission has been graded under two versions of its tests.")
    else:
        console.print(diff_table(shown))
        console.print(f"{sum(d.changed for d in diffs)} of {len(diffs)} regraded submission(s) changed.",
                      highlight=False)
    for adjustment in stale:
        console.print(f"The override of {for_console(adjustment.target, 300)} for "
                      f"{for_console(adjustment.learner, 300)} / {adjustment.exercise} counts nothing now: the latest "
                      f"run has no such test (set it again with --test, or --remove it).", highlight=False)


@gradebook.command()
@_location
@click.argument("learner", required=False)
@click.option("--exercise", "-e", help="Only this exercise.")
def adjustments(output_dir: Path, gradebook_path: Path | None, learner: str | None, exercise: str | None) -> None:
    """Every override and rubric point set (of LEARNER, if given), oldest first, removals included."""
    from grader.console import console
    from grader.record import adjustments as adjusting
    from grader.record.report.terminal import adjustments_table

    with _open(output_dir, gradebook_path) as book:
        console.print(adjustments_table(adjusting.history(book, learner, exercise)))
