"""``hml list``: the course's exercises, their points, and your last local check of each."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("list")
@click.option("--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
              show_default=True, help="Where your workspaces are: this folder (or the workspace it is in) "
                                      "and its subfolders.")
def list_exercises(directory: Path) -> None:
    """List every exercise: its course module, file, title, points and your last check."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from grader.console import console
    from grader.course.model import Course
    from grader.course.points import exercise_points
    from grader.learner_tools.check import display
    from grader.learner_tools.workspace import ago, latest_checks

    checks = latest_checks(directory)
    rows, broken = Course().exercises_in_course_order()

    any_hidden_missing = False
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, expand=False, pad_edge=False)
    id_width = max((len(e.id) for e in rows), default=8) + 2
    table.add_column("exercise", min_width=id_width, max_width=max(id_width, 34))
    table.add_column("title · file", ratio=1, min_width=16)
    table.add_column("points\n(public)", justify="right", no_wrap=True)
    table.add_column("last check", no_wrap=True, min_width=15)
    for index, exercise in enumerate(rows):
        if index == 0 or rows[index - 1].course_module != exercise.course_module:
            table.add_row(Text(exercise.course_module, style="bold magenta"), "", "", "")
        points = exercise_points(exercise)
        if points.total is None:
            any_hidden_missing = True
            shown_points = f"? ({points.public:g})*"
        else:
            shown_points = f"{points.total:g} ({points.public:g})"
        found = checks.get(exercise.id)
        if found is None:
            last_text = Text("not started", style="dim")
        elif found[1] is None:
            last_text = Text(f"started in {display(found[0].directory)}", style="dim")
        else:
            last = found[1]
            style = "green" if last.complete else "yellow"
            note = f" ({last.note})" if last.note else ""
            last_text = Text(f"{last.score:g}/{last.max_score:g}{note}, {ago(last.time)}", style=style)
        name = Text("  " + exercise.id, style="bold")
        title = Text(exercise.title)
        title.append(f" · {exercise.file}", style="dim")
        last_module = index == len(rows) - 1 or rows[index + 1].course_module != exercise.course_module
        table.add_row(name, title, shown_points, last_text, end_section=last_module)
    console.print(table)
    if any_hidden_missing:
        console.print(Text("* Only the public tests are here: the hidden tests, run when you submit, add more "
                           "points.", style="dim"))
    console.print(Text("Start one with `hml start ID` (add --notebook for Jupyter); check it with `hml check`.",
                       style="dim"))
    for message in broken:
        console.print(Text(f"skipped a broken exercise: {message}", style="red"))

