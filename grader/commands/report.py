"""``hml report``: a static HTML report of the gradebook, grades.csv beside it, JUnit XML on request."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="The grading output directory (holds the gradebook).")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite gradebook [default: OUTPUT_DIR/gradebook.sqlite].")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the report goes [default: OUTPUT_DIR/report].")
@click.option("--junit", is_flag=True, help="Also write junit/<learner>/<exercise>.xml per submission.")
@click.option("--title", default="Building Hybrid ML Systems", show_default=True, help="The report's title.")
def report(output_dir: Path, gradebook_path: Path | None, report_dir: Path | None, junit: bool, title: str) -> None:
    """Write the class overview, a page per learner and grades.csv (offline, printable HTML)."""
    from grader.console import console
    from grader.gradebook import Gradebook, GradebookError, default_path
    from grader.report.render import write_report

    path = gradebook_path or default_path(output_dir)
    if not path.is_file():
        raise click.ClickException(f"no gradebook at {path}: grade something first (hml grade-course ...)")
    target = report_dir or output_dir / "report"
    try:
        with Gradebook(path) as book:
            if not book.count_runs():
                raise click.ClickException(f"the gradebook {path} holds no gradings yet")
            index = write_report(book, target, junit=junit, title=title)
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"Report: [bold]{index}[/bold] (open it in a browser; grades.csv is beside it"
                  f"{', JUnit XML under junit/' if junit else ''})", highlight=False)
