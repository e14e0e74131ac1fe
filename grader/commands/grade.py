"""``hml grade``: grade submissions of one exercise against public and hidden tests."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--exercise", "-e", "exercise_id", required=True, help="The exercise id, e.g. kfp_basic_pipeline.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="Where DIR/<submission>/results.json are written.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Submissions graded at once.")
@click.option("--unsandboxed", is_flag=True,
              help="Run learner code without bubblewrap. Only for code you trust.")
@click.argument("submissions", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
def grade(exercise_id: str, output_dir: Path, jobs: int, unsandboxed: bool, submissions: tuple[Path, ...]) -> None:
    """Grade SUBMISSIONS (module files, notebooks, directories or zips) of one exercise.

    Exit status 0 when grading ran, whatever the scores.
    """
    from grader.commands.common import load_exercise, require_sandbox, summary_table
    from grader.console import console
    from grader.course import Course
    from grader.run import Job, grade_many, submission_names

    course = Course()
    exercise = load_exercise(course, exercise_id)
    sandboxed = require_sandbox(unsandboxed)
    paths = list(submissions)
    jobs_list = [Job(exercise, path, name, output_dir) for path, name in zip(paths, submission_names(paths))]
    with console.status(f"Grading {len(jobs_list)} submission(s) of {exercise.id}…"):
        results = grade_many(jobs_list, course=course, workers=jobs, sandboxed=sandboxed,
                             cache_dir=output_dir / ".cache")
    console.print(summary_table(results))
    console.print(f"Results written under [bold]{output_dir}[/bold]/<submission>/results.json")
