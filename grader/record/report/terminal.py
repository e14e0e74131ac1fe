"""Tables for the terminal that stay readable at 80 columns.

Values are never cut: learners' names fold onto further lines, timestamps
are split into date and time, and what does not fit (content and suite
hashes) is shown on request. ``class_summary`` is the grading summary: one
row per learner and exercise, so its width does not grow with the number of
exercises. Learners' names are their own folder names: they go through
``grader.learner_text.for_console``, so they print as written and move no cursor.
"""
from __future__ import annotations

from rich import box
from rich.table import Table

from grader.learner_text import for_console
from grader.record.kinds import Outcome

# A learner's name (a folder name: at most 255 bytes) is shown whole, even with every character escaped.
NAME_LIMIT = 2048


def _when(iso: str) -> str:
    """``2026-01-31T12:00:00+00:00`` as ``2026-01-31`` over ``12:00:00`` (UTC, as recorded)."""
    date, _, rest = iso.partition("T")
    return f"{date}\n{rest[:8]}" if rest else date


def history_table(runs, *, hashes: bool = False) -> Table:
    """Every run: number, when, who, what, score, status, time; ``hashes`` adds the content and suite
    hashes under the exercise."""
    title = "Grading history (UTC" + ("; under each exercise: content and test-suite hashes)" if hashes else ")")
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("graded", no_wrap=True)
    table.add_column("learner", overflow="fold")
    table.add_column("exercise", no_wrap=True)  # exercise ids are short enough for one line
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    for run in runs:
        exercise = f"{run.exercise}\n{run.content_hash[:8]} {run.suite_hash[:8]}" if hashes else run.exercise
        table.add_row(str(run.id), _when(run.graded_at), for_console(run.learner, NAME_LIMIT), exercise,
                      f"{run.score:g}/{run.max_score:g}", run.outcome.value, f"{run.execution_time:.1f}s")
    return table


def class_table(rows: list[tuple[str, str, float | None, float, str]],
                totals: dict[str, tuple[float, float]]) -> Table:
    """The grading summary: (learner, exercise, score, maximum, note) rows, then each learner's total.
    A score of None (not graded) shows as a dash, never as 0."""
    table = Table(title="Class summary", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("learner", overflow="fold")
    table.add_column("exercise", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    previous = None
    for learner, exercise, score, maximum, note in rows:
        shown = for_console(learner, NAME_LIMIT) if learner != previous else ""
        if previous is not None and learner != previous:
            table.add_row(*_total_row(previous, totals), end_section=True)
        table.add_row(shown, exercise, f"{'—' if score is None else f'{score:g}'}/{maximum:g}", note)
        previous = learner
    if previous is not None:
        table.add_row(*_total_row(previous, totals), end_section=True)
    return table


def _total_row(learner: str, totals: dict[str, tuple[float, float]]) -> list[str]:
    score, maximum = totals[learner]
    pct = f" ({100 * score / maximum:.0f}%)" if maximum else ""
    return ["", "[bold]total[/bold]", f"[bold]{score:g}/{maximum:g}[/bold]", pct.strip()]


def class_summary(assigned, jobs_list, outcome) -> Table:
    """One row per learner and exercise, totals out of what was ``assigned`` (ROOT/assignment.toml, else the
    course); a submission an interrupted run did not grade says so instead of counting as 0."""
    rows, totals = [], {}
    for job, result in zip(jobs_list, outcome.per_job):
        maximum = assigned.maxima.get(job.exercise.id, result.max_score if result else 0.0)
        if result is None:
            rows.append((job.who, job.exercise.id, None, maximum, "not graded yet"))
            continue
        note = {Outcome.REFUSED: "refused", Outcome.GRADER_ERROR: "grader error"}.get(result.outcome, "")
        if job.exercise.id not in assigned:
            note = (note + "; " if note else "") + "not assigned"
        rows.append((job.who, job.exercise.id, result.score, maximum, note))
        if job.exercise.id in assigned:
            score, _ = totals.get(job.who, (0.0, assigned.total))
            totals[job.who] = (round(score + result.score, 6), assigned.total)
    for learner, *_ in rows:
        totals.setdefault(learner, (0.0, assigned.total))
    return class_table(rows, totals)



def diff_table(diffs) -> Table:
    """A regrade's differences (``grader.record.regrades``): old and new points, and the tests that flipped."""
    table = Table(title="Regrade differences (latest run against the last one under other tests)",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("learner", overflow="fold")
    table.add_column("exercise", no_wrap=True)
    table.add_column("before", justify="right", no_wrap=True)
    table.add_column("after", justify="right", no_wrap=True)
    table.add_column("tests that changed verdict", overflow="fold")
    for diff in diffs:
        flips = "\n".join(for_console(f"{change.name}: {change.before or 'new'} → {change.after or 'gone'}", 300)
                          for change in diff.changes)
        table.add_row(for_console(diff.learner, NAME_LIMIT), diff.exercise, f"{diff.before:g}", f"{diff.after:g}",
                      flips or "—")
    return table


def adjustments_table(adjustments) -> Table:
    """Every override and rubric point an instructor set, oldest first (``grader.record.adjustments``)."""
    table = Table(title="Adjustments (UTC)", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("set", "learner", "exercise", "what", "points", "by", "reason"):
        table.add_column(name, overflow="fold", no_wrap=name in ("set", "points"))
    for a in adjustments:
        what = a.kind.value + (f" {a.target}" if a.target else "")
        table.add_row(_when(a.created_at), for_console(a.learner, NAME_LIMIT), a.exercise, for_console(what, 300),
                      "removed" if a.points is None else f"{a.points:g}", for_console(a.author, 100),
                      for_console(a.reason, 600))
    return table


def tests_table(run) -> Table:
    """One run's tests: name, node id, points and verdict (for ``hml gradebook override --test``)."""
    table = Table(title=f"{for_console(run.learner, NAME_LIMIT)} / {run.exercise}: run {run.id}",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("test", "node id", "points", "result"):
        table.add_column(name, overflow="fold", no_wrap=name in ("points", "result"))
    for test in run.tests:
        table.add_row(for_console(test.name, 300), for_console(test.nodeid, 300),
                      f"{test.score:g}/{test.max_score:g}", test.status)
    return table
