"""``hml report``: a static HTML report of the gradebook, grades.csv beside it, JUnit XML on request."""
from __future__ import annotations

from pathlib import Path

import click


def assignment_options(command):
    """``--assignment FILE`` / ``--exercise ID``: the exercises that count (default: the whole course)."""
    command = click.option("--exercise", "-e", "exercises", multiple=True, metavar="ID",
                           help="An exercise that counts (repeat for several) instead of an assignment file.")(command)
    return click.option("--assignment", "assignment_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help="A TOML file naming the exercises that count (`exercises = [...]`), e.g. the class "
                             "folder's assignment.toml [default: every exercise of the course].")(command)


def chosen(assignment_file: Path | None, exercises: tuple[str, ...]):
    """The assignment the options name (an ``AssignmentError`` says what is wrong)."""
    from grader.course.assignment import chosen_assignment
    from grader.course.model import Course

    return chosen_assignment(Course(), assignment_file, exercises)


@click.command()
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="The grading output directory (holds the gradebook).")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite gradebook [default: OUTPUT_DIR/gradebook.sqlite].")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the report goes [default: OUTPUT_DIR/report].")
@click.option("--junit", is_flag=True, help="Also write junit/<learner>/<exercise>.xml per submission.")
@click.option("--title", default="Building Hybrid ML Systems", show_default=True, help="The report's title.")
@assignment_options
def report(output_dir: Path, gradebook_path: Path | None, report_dir: Path | None, junit: bool, title: str,
           assignment_file: Path | None, exercises: tuple[str, ...]) -> None:
    """Write the class overview, a page per learner and grades.csv (offline, printable HTML).

    Totals count the assigned exercises at their full points, whoever submitted what.
    """
    from grader.console import console
    from grader.record.gradebook import GradebookError, open_existing
    from grader.record.report.render import write_report

    target = report_dir or output_dir / "report"
    assignment = chosen(assignment_file, exercises)
    with open_existing(gradebook_path, output_dir) as book:
        if not book.count_runs():
            raise GradebookError(f"the gradebook {book.path} holds no gradings yet")
        assignment.check_learners(book.learners())  # before a page is written: a bad file leaves no half report
        index = write_report(book, target, assignment=assignment, junit=junit, title=title)
    console.print(f"Report: [bold]{index}[/bold] (open it in a browser; grades.csv is beside it"
                  f"{', JUnit XML under junit/' if junit else ''}). Learner pages to hand out: "
                  f"{target / 'learners'}", highlight=False)
