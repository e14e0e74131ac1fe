"""What ``hml check`` prints: each public test, its points, the author's message and hints.

What is shown is decided in ``grader.learner_tools.check_view`` (the notebook
shows the same view as HTML). Everything that comes from the learner's run
(messages, tracebacks) is printed as plain text, never interpreted as rich
markup. A refused file is said to be refused, and why, once: no test ran on it.
"""
from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.grading.explain import Hint, Problem
from grader.learner_tools.check_view import SAME_AS_ABOVE, CheckRow, CheckView
from grader.learner_tools.hint_tiers import HintStep

MARKS = {"passed": ("✓", "bold green"), "failed": ("✗", "bold red"), "not attempted": ("○", "bold yellow")}
INDENT = 4
HINT_COMMAND = "hml check --hint {test}"


def render_problems(console: Console, problems: list[Problem]) -> None:
    for problem in problems:
        style = "bold red" if problem.fatal else "bold yellow"
        console.print(Text(("error: " if problem.fatal else "note: ") + problem.title, style=style))
        if problem.detail:
            console.print(Padding(Text(problem.detail), (0, 0, 0, INDENT)))
    if problems:
        console.print()


def render_hints(console: Console, hints: list[Hint], indent: int = INDENT) -> None:
    for hint in hints:
        line = Text("→ ", style="bold cyan")
        line.append(hint.text)
        console.print(Padding(line, (0, 0, 0, indent)))


def render_hint_step(console: Console, step: HintStep, indent: int = INDENT,
                     command: str = HINT_COMMAND) -> None:
    """The author's hints reached so far, and how to ask for the next one."""
    for number, text in enumerate(step.shown, 1):
        line = Text(f"Hint {number}/{len(step.tiers)}: ", style="bold magenta")
        line.append(text)
        console.print(Padding(line, (0, 0, 0, indent)))
    if not step.last:
        console.print(Padding(Text(f"(another hint: {command.format(test=step.test)})", style="dim"),
                              (0, 0, 0, indent)))


def render_check(console: Console, view: CheckView, command: str = HINT_COMMAND) -> None:
    """The whole check: problems found before running, a row per test, the summary line."""
    render_problems(console, view.problems)
    if view.refused:
        console.print(Text(f"Your file was refused, so no test could run on it: {view.refused}", style="bold red"))
    points_width = max((len(r.points) for r in view.rows), default=3)
    indent = 2 + 1 + points_width + 1  # messages line up with the test names
    for row in view.rows:
        _render_row(console, row, points_width, indent, command)
    if view.grader_failure:
        console.print(Text("The check itself could not run to the end:", style="bold red"))
        console.print(Padding(Text(view.grader_failure), (0, 0, 0, INDENT)))
        render_hints(console, view.grader_explanations)
    console.print()
    console.print(Text(view.summary, style="bold"))
    if view.next_step:
        console.print(Text(view.next_step, style="green" if view.passed == len(view.rows) else "yellow"))


def _render_row(console: Console, row: CheckRow, points_width: int, indent: int, command: str) -> None:
    line = Table.grid(padding=(0, 1))
    line.add_column(width=2, no_wrap=True)
    line.add_column(justify="right", no_wrap=True, min_width=points_width)
    line.add_column()
    mark, style = MARKS[row.verdict]
    name = Text(row.name)
    if row.verdict == "not attempted":
        name.append("  (not attempted)", style="yellow")
    line.add_row(Text(mark, style=style), Text(row.points, style=style.split()[-1]), name)
    console.print(line)
    if row.passed:
        return
    style = "dim" if row.message == SAME_AS_ABOVE else ""
    console.print(Padding(Text(row.message, style=style), (0, 0, 0, indent)))
    render_hints(console, row.explanations, indent)
    if row.hint is not None:
        render_hint_step(console, row.hint, indent, command)
