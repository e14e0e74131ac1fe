"""``hml lti``: the LTI 1.3 tool that links a course (``serve``) and the grade push to it (``push``)."""
from __future__ import annotations

from pathlib import Path

import click

from grader.cli import GraderGroup
from grader.commands.report import assignment_options, chosen


def _config_option(command):
    return click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
                        envvar="HML_LTI_CONFIG",
                        help="The tool's private folder: registration, key, linked course "
                             "[default: the user's config folder, hml/lti].")(command)


def _folder(config_dir: Path | None):
    from grader.platforms.lti.config import ToolFolder, default_folder

    return ToolFolder(config_dir or default_folder())


@click.group(cls=GraderGroup)
def lti() -> None:
    """Grades back to Canvas, Moodle or Open edX over LTI 1.3 Advantage (docs/lms.md)."""


@lti.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="The port.")
@click.option("--public-url", help="Where the LMS reaches the tool, e.g. https://grader.example.edu behind a TLS "
                                   "proxy [default: http://HOST:PORT].")
@click.option("--relink", is_flag=True, help="Let an instructor's launch from another course (or deployment) "
                                              "replace the linked course; without it such a launch is refused.")
@_config_option
def serve(host: str, port: int, public_url: str | None, relink: bool, config_dir: Path | None) -> None:
    """Serve the tool's login, launch and JWKS endpoints, for the course's one instructor launch."""
    from grader.console import console
    from grader.platforms.lti.server import make_server, urls

    folder = _folder(config_dir)
    server = make_server(folder, host, port, public_url, relink=relink)
    where = urls(server.public_url)
    registered = folder.registration() is not None
    console.print(f"LTI tool at {server.public_url}\n  login (OIDC initiation) URL: {where.login}\n"
                  f"  launch (redirect) URL:       {where.launch}\n  public keyset (JWKS) URL:    {where.jwks}\n"
                  f"  folder: {folder.path}" + ("" if registered else
                                               "\n  not registered yet: write registration.toml there (docs/lms.md)"),
                  highlight=False)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@lti.command()
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("hml-results"),
              show_default=True, help="The grading output directory holding the gradebook.")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite gradebook [default: OUTPUT_DIR/gradebook.sqlite].")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--match-by", type=click.Choice(["login", "email", "user-id"]), default="login", show_default=True,
              help="The one roster field a gradebook learner's name is compared with: login "
                   "(lis_person_sourcedid), email (case aside) or user-id (the LMS's LTI user id).")
@_config_option
@assignment_options
def push(output_dir: Path, gradebook_path: Path | None, dry_run: bool, match_by: str, config_dir: Path | None,
         assignment_file: Path | None, exercises: tuple[str, ...]) -> None:
    """Send each learner's final grade of each assigned exercise to the linked course."""
    from grader.console import console
    from grader.course.model import Course
    from grader.learner_text import for_console
    from grader.platforms.lti.errors import PushIncomplete
    from grader.platforms.lti.push import Action, push as push_grades
    from grader.record.gradebook import open_existing

    assignment = chosen(assignment_file, exercises)
    course = Course()
    labels = {e: course.exercise(e).title for e in assignment.maxima if e in course.exercise_ids()}
    folder = _folder(config_dir)
    with open_existing(gradebook_path, output_dir) as book:
        assignment.check_learners(book.learners())  # before the course site is contacted
        outcome = push_grades(book, assignment, folder, dry_run=dry_run, labels=labels, match_by=match_by)
    verb = "would send" if dry_run else "sent"
    done = outcome.of(Action.SEND) if dry_run else outcome.sent
    console.print(f"{for_console(outcome.course or outcome.platform)}: {verb} {len(done)}, unchanged "
                  f"{len(outcome.of(Action.UNCHANGED))}, unmatched {len(outcome.of(Action.UNMATCHED))}, "
                  f"without a grade {len(outcome.of(Action.NO_GRADE))}, failed {len(outcome.failed)}",
                  highlight=False)
    for planned in done:
        console.print(f"  {verb}: {for_console(planned.learner)} {planned.exercise} {planned.score:g}/"
                      f"{planned.max_score:g} (member {for_console(planned.member.user_id, 80)})", highlight=False)
    for exercise in outcome.created:
        console.print(f"  created the line item of {exercise}", highlight=False)
    for learner, why in sorted(outcome.unmatched.items()):
        console.print(f"  unmatched: {for_console(learner)}: {why.value}", highlight=False)
    for planned, reason in outcome.failed:
        console.print(f"  failed: {for_console(planned.learner)} {planned.exercise}: {for_console(reason)}",
                      highlight=False)
    if outcome.failed:
        raise PushIncomplete(f"{len(outcome.failed)} grade(s) not sent ({for_console(outcome.failed[0][1])}); "
                             "they are recorded as failed: run `hml lti push` again to retry them")
