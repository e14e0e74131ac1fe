"""``hml collect``: an LMS's bulk download of one exercise, placed as ``ROOT/<learner>/<exercise>``."""
from __future__ import annotations

from pathlib import Path

import click

PLATFORMS = ("canvas", "moodle", "gradescope")  # grader.platforms.exports.model.Platform, without importing it here


@click.command("collect")
@click.argument("export", type=click.Path(path_type=Path))
@click.argument("root", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "platform", type=click.Choice(PLATFORMS), required=True,
              help="The LMS the download comes from.")
@click.option("--exercise", "-e", "exercise_id", required=True, help="The exercise the download holds.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV mapping the LMS's ids to logins (columns id, login; name and email optional): "
                   "learners' folders are then their logins.")
def collect(export: Path, root: Path, platform: str, exercise_id: str, roster: Path | None) -> None:
    """Place the submissions of EXPORT (the LMS's zip, or it unpacked) as ROOT/<learner>/<exercise>.

    Learners are named by the LMS's stable id (Canvas user id, Moodle
    participant id, Gradescope SID), or by their login with --roster. What
    the download says of when work was handed in goes to ROOT/submissions.csv
    for the late policy: Gradescope's submission times, and Canvas's LATE_
    flags (late = yes or no; a time already there is kept). Moodle's download
    says neither. Links, paths that leave the folder, zip bombs and files
    that cannot be placed are refused, each with its reason; collecting the
    same download again changes nothing.
    """
    from grader.commands.common import load_exercise
    from grader.course.model import Course
    from grader.platforms.exports.collect import collect as collect_export
    from grader.platforms.exports.model import Platform
    from grader.platforms.exports.roster import read_roster

    exercise = load_exercise(Course(), exercise_id)
    people = read_roster(roster) if roster is not None else None
    collected = collect_export(Platform(platform), exercise, export, root, people)
    show(collected, root)


def show(collected, root: Path) -> None:
    """What was placed (a table), what was refused and why (a line each), and the counts."""
    from rich.table import Table

    from grader.console import console
    from grader.intake.submission_times import utc_text
    from grader.learner_text import for_console
    from grader.platforms.exports.model import PlaceStatus

    if collected.placed:
        table = Table(title=f"Placed under {for_console(root)}")
        for column in ("learner/submission", "status", "submitted", "late", "from the download"):
            table.add_column(column, overflow="fold")
        for placed in collected.placed:
            late = {True: "LATE", False: "", None: ""}[placed.late]
            submitted = utc_text(placed.submitted_at) if placed.submitted_at else ""
            # Learners' folders and the download's names are learner-made: through for_console.
            table.add_row(for_console(f"{placed.learner}/{placed.path.name}"), placed.status.value, submitted, late,
                          for_console(placed.source, 120))
        console.print(table)
    for refusal in collected.refused:
        console.print(f"[red]refused[/red] {for_console(refusal.name, 120)}: {for_console(refusal.reason, 300)}",
                      highlight=False)
    for note in collected.notes:
        console.print(f"[dim]{for_console(note, 300)}[/dim]", highlight=False)
    times = {None: "not touched", True: "updated", False: "unchanged"}[collected.times_written]
    console.print(f"{len(collected.placed)} placed ({collected.count(PlaceStatus.NEW)} new, "
                  f"{collected.count(PlaceStatus.UPDATED)} updated, {collected.count(PlaceStatus.UNCHANGED)} "
                  f"unchanged), {len(collected.refused)} refused; submissions.csv {times}", highlight=False)
