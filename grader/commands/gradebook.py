"""``hml gradebook``: export grades, look at a learner's history."""
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
        if fmt == "canvas":
            from grader.platforms.canvas import export as canvas_csv

            text = canvas_csv(book, assignment)
        else:
            text = {"csv": book.export_csv, "nbgrader-csv": book.export_nbgrader_csv,
                    "json": book.export_json}[fmt](assignment)
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
def history(output_dir: Path, gradebook_path: Path | None, learner: str | None, exercise: str | None,
            hashes: bool) -> None:
    """Every grading run, oldest first (of LEARNER, if given)."""
    from grader.console import console
    from grader.record.report.terminal import history_table

    with _open(output_dir, gradebook_path) as book:
        runs = book.history(learner, exercise)
    console.print(history_table(runs, hashes=hashes))


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
