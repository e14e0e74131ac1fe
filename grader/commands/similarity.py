"""``hml similarity``: pairs of submissions that look copied, per exercise, ranked (for instructors only)."""
from __future__ import annotations

from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--exercise", "-e", "exercises", multiple=True, metavar="ID",
              help="Compare only this exercise's submissions (repeat for several) [default: every exercise].")
@click.option("--json", "as_json", is_flag=True, help="Print every pair as JSON, highest score first.")
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("hml-similarity"),
              show_default=True, help="Where the index and the side-by-side pages of pairs above the threshold go.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="A pair gets a page when its score is at least this (0 to 1).")
@click.option("--code-only", is_flag=True, help="Compare code only: no pipeline compiled, no model read (no sandbox).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Pipelines compiled, and submissions' models read, at once, each in a sandboxed worker.")
@sandbox_options
def similarity(root: Path, exercises: tuple[str, ...], as_json: bool, output_dir: Path, threshold: float,
               code_only: bool, jobs: int, sandbox: str, unsandboxed: bool) -> None:
    """Rank pairs of ROOT's submissions (ROOT/<learner>/<exercise>) that look copied.

    Compares code (tokens, the starter left out), compiled pipelines (their DAG, names left out;
    compiled in the sandbox) and TFLite models handed in as files (operators and weights, read in the
    sandbox), each beyond what the course's own solution holds. Writes a page per pair at or above the
    threshold to OUTPUT_DIR, for instructors: never hand these pages out.
    """
    import json

    from grader.commands.common import load_exercise, require_sandbox
    from grader.console import console, warn
    from grader.course.model import Course
    from grader.instructor_tools.similarity.pages import write_pages
    from grader.instructor_tools.similarity.scan import ScanRequest, scan
    from grader.learner_text import for_console

    course = Course()
    for exercise_id in exercises:
        load_exercise(course, exercise_id)
    def chosen_sandbox():
        from grader.sandbox.launch import SandboxUnavailable

        try:
            return require_sandbox(sandbox, unsandboxed)
        except SandboxUnavailable as exc:
            raise SandboxUnavailable(f"{exc} Or compare code alone, which runs nothing: --code-only.") from None

    result = scan(ScanRequest(root, course, exercises, output_dir, artifacts=not code_only,
                              sandbox=chosen_sandbox, jobs=jobs))
    index = write_pages(result.pairs, output_dir, threshold)
    for note in result.notes:
        warn(for_console(note, 300))
    if as_json:
        # ensure_ascii: a learner's folder name cannot put a terminal escape or a markup tag on the console.
        click.echo(json.dumps([pair.as_json() for pair in result.pairs], indent=2, ensure_ascii=True))
        return
    _print_table(console, result.pairs, threshold)
    console.print(f"Pages of the pairs at or above {threshold:g}: [bold]{for_console(str(index))}[/bold] "
                  "(for instructors; not for learner pages)", highlight=False)


def _print_table(console, pairs, threshold: float) -> None:
    from rich.table import Table

    from grader.learner_text import for_console

    shown = [p for p in pairs if p.score >= threshold] or pairs[:10]
    table = Table(title=f"Most similar pairs ({len(shown)} of {len(pairs)})")
    for column in ("#", "exercise", "learner", "learner", "score", "code", "pipeline", "model"):
        table.add_column(column, justify="right" if column in ("#", "score", "code", "pipeline", "model") else "left")
    for rank, pair in enumerate(shown, start=1):
        scores = [f"{s:.2f}" if s is not None else "–" for s in pair.scores().values()]
        table.add_row(str(rank), pair.exercise, for_console(pair.learners[0], 60), for_console(pair.learners[1], 60),
                      f"{pair.score:.2f}", *scores)
    console.print(table)
