"""``hml grade-course``: grade a whole class, ``ROOT/<learner>/<exercise>``, in parallel and resumably."""
from __future__ import annotations

from pathlib import Path

import click

from grader.commands.grade import batch_options, finish


@click.command("grade-course")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="Where DIR/<learner>/<exercise>/results.json and the gradebook go.")
@click.option("--exercise", "-e", "only", multiple=True, metavar="ID",
              help="Grade only this exercise (repeatable).")
@batch_options
def grade_course(root: Path, output_dir: Path, only: tuple[str, ...], jobs: int, force: bool, retry_errors: bool,
                 gradebook_path: Path | None, quiet: bool, engine: str, broker_file: Path | None,
                 broker: str | None, sandbox: str, unsandboxed: bool) -> None:
    """Grade every submission under ROOT, laid out as ROOT/<learner>/<exercise>.

    A submission is <exercise>.py, <exercise>.ipynb, <exercise>.zip or a folder
    <exercise>/ holding the module file or a notebook. Each result is saved and
    recorded in the gradebook as soon as it is graded; Ctrl-C (or a killed
    grader) loses nothing finished, and running the same command again grades
    only what changed. Then `hml report` turns the gradebook into a report.

    ROOT/submissions.csv (learner,exercise,submitted_at), when there, says
    when each submission was handed in, for the late policy of
    ROOT/assignment.toml (docs/course.md).
    """
    from grader.batch.coordinator import run_batch
    from grader.batch.engines import engine_for
    from grader.commands.common import load_exercise, require_sandbox
    from grader.console import console, warn
    from grader.course.model import Course
    from grader.grading.run import Job
    from grader.intake.discovery import NoSubmissions, discover_class
    from grader.learner_text import for_console
    from grader.record.gradebook import default_path
    from grader.record.report.terminal import class_summary

    course = Course()
    for exercise_id in only:
        load_exercise(course, exercise_id)
    assigned = class_assignment(root, course)  # a mistake in it stops here, before anything is graded
    where = engine_for(engine, broker, jobs, output_dir / ".cache", lambda: require_sandbox(sandbox, unsandboxed),
                       broker_file)
    found = discover_class(root, course, only, output_dir)
    for problem in found.problems:
        warn(for_console(problem, 300))  # folder and file names are the learners' own
    if not found.entries:
        raise NoSubmissions(f"no submissions found under {root} (expected ROOT/<learner>/<exercise>)")
    check_extensions(assigned, found.entries, gradebook_path or default_path(output_dir))
    record_times(root, found.entries, gradebook_path or default_path(output_dir))
    jobs_list = [Job(e.exercise, e.path, f"{e.learner}/{e.exercise.id}", output_dir, learner=e.learner,
                     results_path=output_dir / e.learner / e.exercise.id / "results.json") for e in found.entries]
    learners = sorted({e.learner for e in found.entries})
    console.print(f"{len(jobs_list)} submission(s) of {len(learners)} learner(s) under {root}", highlight=False)
    outcome = run_batch(jobs_list, course=course, gradebook_path=gradebook_path or default_path(output_dir),
                        engine=where, workers=jobs, force=force, retry_errors=retry_errors, command="grade-course",
                        quiet=quiet)

    console.print(class_summary(assigned, jobs_list, outcome))
    finish(outcome, output_dir, force)


def class_assignment(root: Path, course):
    """ROOT/assignment.toml, else every exercise of the course: what the summary's totals count."""
    from grader.course.assignment import assignment, assignment_file, read_assignment

    path = assignment_file(root)
    return read_assignment(course, path) if path is not None else assignment(course)


def check_extensions(assigned, entries, gradebook_path: Path) -> None:
    """Refuse an extension for a learner neither under ROOT nor in the gradebook, before anything is recorded:
    the report would refuse it only after the whole class was graded."""
    from grader.record.gradebook import Gradebook

    known = {entry.learner for entry in entries}
    if gradebook_path.is_file():
        with Gradebook(gradebook_path) as book:
            known |= book.learners()
    assigned.check_learners(known)


def record_times(root: Path, entries, gradebook_path: Path) -> None:
    """Record when each submission under ROOT was handed in (ROOT/submissions.csv), before any grading."""
    from grader.console import warn
    from grader.intake.submission_times import FILE_NAME, read_times, times_file
    from grader.learner_text import for_console
    from grader.record.gradebook import Gradebook

    def named(keys) -> str:
        return for_console(", ".join("/".join(key) for key in keys[:5]), 300) + (" ..." if len(keys) > 5 else "")

    path = times_file(root)
    listed = read_times(path) if path is not None else {}
    found = {(e.learner, e.exercise.id) for e in entries}
    with Gradebook(gradebook_path) as book:
        earlier = {key for key, time in book.submission_times().items() if time.submitted_at is not None}
        book.record_submission_times({key: listed.get(key) for key in found})
    kept = sorted(found - set(listed) & earlier)
    if kept:
        source = f"{path.name} gives no time for" if path else f"there is no {FILE_NAME} in {root.name} for"
        warn(f"{source} {len(kept)} submission(s) with a time recorded earlier: that time is kept: {named(kept)}")
    if path is None:
        return
    unlisted = sorted(found - set(listed) - earlier)
    if unlisted:
        warn(f"{path.name} gives no time for {len(unlisted)} submission(s), counted on time: {named(unlisted)}")
    flagged = sorted(key for key in found & set(listed) if listed[key].submitted_at is None and listed[key].late)
    if flagged:
        warn(f"{path.name} marks {len(flagged)} submission(s) late without a time (the LMS's flag): no penalty "
             f"is counted until their times are there: {named(flagged)}")
    extra = sorted(set(listed) - found)
    if extra:
        warn(f"{path.name} lists {len(extra)} submission(s) not under {root.name}: {named(extra)}")
