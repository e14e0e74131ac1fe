"""What ``hml check`` prints: each public test, its points, the author's message and a hint.

What a learner may see of each test comes from ``grader.record.learner_view``.
Everything that comes from the learner's run (messages, tracebacks) is
printed as plain text, never interpreted as rich markup. A refused file is
said to be refused, and why, once: no test ran on it.
"""
from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.grading.explain import Hint, Problem, Source, explain, rewrite_frames
from grader.record.kinds import Outcome
from grader.record.learner_view import learner_view
from grader.record.results import GradeResult

PASS = "✓"
INDENT = 4
FAIL = "✗"


def _points(value: float) -> str:
    return f"{value:g}"


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


def render_result(console: Console, result: GradeResult, exercise, source: Source) -> list[Hint]:
    """Print every test's verdict; return the hints shown (at most once each)."""
    shown: set[str] = set()
    hints_shown: list[Hint] = []
    previous_output = None
    if result.outcome is Outcome.REFUSED:
        console.print(Text(f"Your file was refused, so no test could run on it: {result.refused}",
                           style="bold red"))
        return hints_shown
    rows = learner_view(result)
    points_width = max((len(r.points) for r in rows), default=3)
    indent = 2 + 1 + points_width + 1  # messages line up with the test names
    for test in rows:
        row = Table.grid(padding=(0, 1))
        row.add_column(width=2, no_wrap=True)
        row.add_column(justify="right", no_wrap=True, min_width=points_width)
        row.add_column()
        mark = Text(PASS, style="bold green") if test.passed else Text(FAIL, style="bold red")
        points = Text(test.points, style="green" if test.passed else "red")
        row.add_row(mark, points, Text(test.name))
        console.print(row)
        if test.passed:
            continue
        output = rewrite_frames(test.message or "This check failed.", source, exercise.file)
        if output == previous_output:
            console.print(Padding(Text("(the same as above)", style="dim"), (0, 0, 0, indent)))
            continue
        previous_output = output
        console.print(Padding(Text(output.rstrip()), (0, 0, 0, indent)))
        new = [h for h in explain(test.message, exercise) if h.key not in shown]
        shown.update(h.key for h in new)
        hints_shown += new
        render_hints(console, new, indent)
    if result.outcome is Outcome.GRADER_ERROR:
        console.print(Text("The check itself could not run to the end:", style="bold red"))
        failure = result.grader_failure
        console.print(Padding(Text(rewrite_frames(failure, source, exercise.file).rstrip()), (0, 0, 0, INDENT)))
        new = [h for h in explain(failure, exercise) if h.key not in shown]
        hints_shown += new
        render_hints(console, new)
    return hints_shown


def render_summary(console: Console, result: GradeResult) -> None:
    passed = sum(t.passed for t in result.tests)
    total = len(result.tests)
    console.print()
    if result.outcome is Outcome.REFUSED:
        console.print(Text(f"Public tests: 0/{_points(result.max_score)} points: the file was refused. "
                           "Fix what is said above and check again.", style="bold"))
        return
    score = Text(f"Public tests: {_points(result.score)}/{_points(result.max_score)} points, "
                 f"{passed} of {total} passed.", style="bold")
    console.print(score)
    if result.outcome is Outcome.GRADED and passed == total:
        console.print(Text("Every public test passes. When you submit, hidden tests check more cases "
                           "(other inputs, the edges of each rule): read the README once more for them.",
                           style="green"))
    elif result.outcome is Outcome.GRADED:
        first = next(t for t in result.tests if not t.passed)
        console.print(Text(f"Start with the first failing test: {first.name}.", style="yellow"))
