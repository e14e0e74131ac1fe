"""``hml grade``: grade submissions of one exercise against public and hidden tests."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.commands.common import sandbox_options
from grader.errors import ExitCode



def batch_options(command):
    """Options ``grade`` and ``grade-course`` share: parallelism, resuming, the gradebook."""
    options = [
        click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
                     help="Submissions graded at once (one per core is a good choice)."),
        click.option("--force", is_flag=True,
                     help="Regrade everything, even submissions graded before with the same content and tests."),
        click.option("--retry-errors", is_flag=True,
                     help="Regrade submissions whose last run failed because of the grader itself."),
        click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="The SQLite gradebook [default: OUTPUT_DIR/gradebook.sqlite]."),
        click.option("--quiet", "-q", is_flag=True, help="No line per finished submission; the bar only."),
        click.option("--engine", type=click.Choice(["local", "celery"]), default="local", show_default=True,
                     help="Where grading runs: here (--jobs at once), or on `hml worker` nodes over a broker."),
        click.option("--broker-file", envvar="HML_BROKER_FILE", metavar="FILE",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="A file holding the Redis URL of --engine celery, redis://:PASSWORD@HOST:PORT/N "
                          "[default: HML_BROKER]. The cluster's key is read from HML_CLUSTER_SECRET_FILE."),
        click.option("--broker", metavar="URL",
                     help="The broker's URL for a broker without a password (a URL with one is refused: "
                          "command lines are readable by every process)."),
    ]
    for option in reversed(options):
        command = option(command)
    return sandbox_options(command)


def finish(outcome, output_dir: Path, force: bool = False) -> None:
    """The closing lines both batch commands print, and the exit status of an interrupted batch."""
    from grader.console import console, warn
    from grader.learner_text import for_console

    for problem in outcome.problems:
        warn(for_console(problem, 300))  # they name submissions, and a worker's reason

    console.print(f"graded {outcome.graded}, skipped {outcome.skipped} (unchanged since their last grading) "
                  f"in {outcome.elapsed:.1f}s; results under [bold]{output_dir}[/bold], "
                  f"gradebook [bold]{outcome.gradebook}[/bold]", highlight=False)
    if outcome.interrupted:
        # Again with --force would regrade what this run finished too.
        again = "run the same command without --force" if force else "run the same command again"
        console.print(f"[yellow]interrupted:[/yellow] every finished submission is saved; {again} "
                      "to grade the rest.")
        sys.exit(ExitCode.INTERRUPTED)


@click.command()
@click.option("--exercise", "-e", "exercise_id", required=True, help="The exercise id, e.g. kfp_basic_pipeline.")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="Where DIR/<submission>/results.json are written.")
@batch_options
@click.argument("submissions", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
def grade(exercise_id: str, output_dir: Path, jobs: int, force: bool, retry_errors: bool,
          gradebook_path: Path | None, quiet: bool, engine: str, broker_file: Path | None, broker: str | None,
          sandbox: str, unsandboxed: bool, submissions: tuple[Path, ...]) -> None:
    """Grade SUBMISSIONS (module files, notebooks, directories or zips) of one exercise.

    Each submission is recorded in the gradebook as it finishes; running the
    same command again grades only submissions whose content or tests changed.
    Exit status 0 when grading ran, whatever the scores; 130 when interrupted.
    """
    from grader.batch.engines import engine_for
    from grader.commands.common import load_exercise, require_sandbox
    from grader.course.model import Course

    course = Course()
    exercise = load_exercise(course, exercise_id)
    where = engine_for(engine, broker, jobs, output_dir / ".cache", lambda: require_sandbox(sandbox, unsandboxed),
                       broker_file)
    # The warm processes start before the rest is imported and the submissions are read: one submission's
    # grading then waits for them little or not at all.
    with where.warmed(course, [exercise], runs=len(submissions)):
        from grader.batch.coordinator import run_batch
        from grader.commands.common import summary_table
        from grader.console import console
        from grader.grading.run import Job, submission_names
        from grader.record.gradebook import default_path

        paths = list(submissions)
        jobs_list = [Job(exercise, path, name, output_dir) for path, name in zip(paths, submission_names(paths))]
        outcome = run_batch(jobs_list, course=course, gradebook_path=gradebook_path or default_path(output_dir),
                            engine=where, workers=jobs, force=force, retry_errors=retry_errors, command="grade",
                            quiet=quiet)
    console.print(summary_table(outcome.results))
    console.print(f"Results written under [bold]{output_dir}[/bold]/<submission>/results.json")
    finish(outcome, output_dir, force)
