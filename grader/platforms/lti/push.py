"""A grade push: plan what the platform lacks, send it, and record every outcome in the gradebook.

The grades are the course's final ones (``grader.record.final_grades``:
late policy, overrides, rubric), never the raw test points; a grade the
grader could not give (``final`` None) is not sent. A learner's grade is
sent when the last push the platform accepted (``pushes.last_sent``) holds
another score, maximum, member or line item: a second push with nothing
changed sends nothing. Every grade sent is recorded as SENT with the
platform's answer, or FAILED with why; a learner nobody on the roster is,
as UNMATCHED. FAILED is never SENT, so the next push sends it again: that
is the retry. A dry run reads the roster and line items and changes
nothing, on the platform or in the gradebook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from grader.platforms.lti.ags import LineItem, LineItems
from grader.platforms.lti.config import ToolFolder
from grader.platforms.lti.connector import connect
from grader.platforms.lti.errors import LtiError, PlatformError
from grader.platforms.lti.nrps import MATCH_BY, Matching, Member, Unmatched, match, roster
from grader.record.final_grades import final_grades
from grader.record.pushes import Push, PushStatus, history, last_sent, record

if TYPE_CHECKING:
    from grader.course.assignment import Assignment
    from grader.record.gradebook import Gradebook


class Action(Enum):
    SEND = "send"
    UNCHANGED = "unchanged"    # the platform holds this grade already
    UNMATCHED = "unmatched"    # no one, or more than one, on the roster is this learner
    NO_GRADE = "no grade"      # the grader failed and nobody set the points: nothing to send


@dataclass(frozen=True)
class Planned:
    learner: str
    exercise: str
    score: float | None
    max_score: float
    action: Action
    member: Member | None = None
    line_item: LineItem | None = None   # found already (None: to create, or not known)


@dataclass
class PushReport:
    """What one push did (or, in a dry run, would do)."""

    platform: str
    course: str
    planned: list[Planned] = field(default_factory=list)
    sent: list[Planned] = field(default_factory=list)
    failed: list[tuple[Planned, str]] = field(default_factory=list)
    unmatched: dict[str, Unmatched] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)   # exercises whose line item this push made
    dry_run: bool = False

    def of(self, action: Action) -> list[Planned]:
        return [p for p in self.planned if p.action is action]


def push(book: "Gradebook", assignment: "Assignment", folder: ToolFolder, *, dry_run: bool = False,
         labels: dict[str, str] | None = None, match_by: str = MATCH_BY[0]) -> PushReport:
    """Send every changed final grade of ``assignment`` to the linked course (``failed``: what to retry).

    Learners are matched with the roster on the one field ``match_by`` names (``nrps.MATCH_BY``).
    """
    if match_by not in MATCH_BY:
        raise LtiError(f"--match-by {match_by}: one of {', '.join(MATCH_BY)}")
    context = folder.context()
    connector = connect(folder, context)
    grades = final_grades(book, assignment)
    sent = last_sent(book, context.issuer)
    outcome = PushReport(platform=context.issuer, course=context.context_title or context.context_id,
                      dry_run=dry_run)
    items = LineItems(connector, context)
    try:
        matching = match(sorted({g.learner for g in grades}), roster(connector, context.memberships_url), match_by)
        items.all()
    except PlatformError as exc:
        # Without the roster nobody can be matched: every grade the platform may lack is a failure to retry.
        for grade in grades:
            previous = sent.get((grade.learner, grade.exercise))
            if grade.final is None or (previous and (previous.score, previous.max_score) ==
                                       (grade.final, grade.max_points)):
                continue
            planned = Planned(grade.learner, grade.exercise, grade.final, grade.max_points, Action.SEND)
            outcome.planned.append(planned)
            _fail(book, outcome, planned, str(exc), context.issuer)
        return outcome
    outcome.unmatched = dict(matching.unmatched)
    outcome.planned = [_plan(g.learner, g.exercise, g.final, g.max_points, matching, sent, items) for g in grades]
    if dry_run:
        return outcome
    _record_unmatched(book, outcome, context.issuer)
    to_send = outcome.of(Action.SEND)
    missing = items.missing_scopes(creating=any(p.line_item is None for p in to_send))
    if to_send and missing:
        raise LtiError(f"the platform did not grant {', '.join(s.rsplit('/', 1)[-1] for s in missing)} at launch: "
                       "enable the Assignment and Grade Services in the tool's LMS settings, then launch again")
    _send(book, outcome, to_send, items, labels or {}, context.issuer)
    return outcome


def _plan(learner: str, exercise: str, final: float | None, maximum: float, matching: Matching,
          sent: dict[tuple[str, str], Push], items: LineItems) -> Planned:
    if final is None:
        return Planned(learner, exercise, None, maximum, Action.NO_GRADE)
    member = matching.members.get(learner)
    if member is None:
        return Planned(learner, exercise, final, maximum, Action.UNMATCHED)
    item = items.find(exercise)
    previous = sent.get((learner, exercise))
    unchanged = (previous is not None and item is not None and previous.score == final
                 and previous.max_score == maximum and previous.platform_user == member.user_id
                 and previous.line_item == item.id)
    return Planned(learner, exercise, final, maximum, Action.UNCHANGED if unchanged else Action.SEND, member, item)


def _send(book: "Gradebook", outcome: PushReport, to_send: list[Planned], items: LineItems, labels: dict[str, str],
          platform: str) -> None:
    unreachable: str | None = None
    for planned in to_send:
        if unreachable is not None:  # no answer at all: the rest would wait for the same time-out
            _fail(book, outcome, planned, f"not attempted: {unreachable}", platform)
            continue
        try:
            created = items.find(planned.exercise) is None
            item = items.find_or_create(planned.exercise, labels.get(planned.exercise, planned.exercise),
                                        planned.max_score)
            if created:
                outcome.created.append(planned.exercise)
            answer = items.post_score(item, planned.member.user_id, planned.score, planned.max_score)
        except PlatformError as exc:
            if exc.unreachable:
                unreachable = str(exc)
            _fail(book, outcome, planned, str(exc), platform)
            continue
        record(book, Push(planned.learner, planned.exercise, platform, PushStatus.SENT, planned.member.user_id,
                          item.id, planned.score, planned.max_score, answer))
        outcome.sent.append(planned)


def _fail(book: "Gradebook", outcome: PushReport, planned: Planned, reason: str, platform: str) -> None:
    outcome.failed.append((planned, reason))
    if not outcome.dry_run:
        record(book, Push(planned.learner, planned.exercise, platform, PushStatus.FAILED,
                          planned.member.user_id if planned.member else None,
                          planned.line_item.id if planned.line_item else None, planned.score, planned.max_score,
                          reason))


def _record_unmatched(book: "Gradebook", outcome: PushReport, platform: str) -> None:
    """An unmatched grade is recorded once, not again on every push while nothing about it changed."""
    latest = {(p.learner, p.exercise): p for p in history(book, platform)}
    for planned in outcome.of(Action.UNMATCHED):
        before = latest.get((planned.learner, planned.exercise))
        if (before is not None and before.status is PushStatus.UNMATCHED
                and (before.score, before.max_score) == (planned.score, planned.max_score)):
            continue
        record(book, Push(planned.learner, planned.exercise, platform, PushStatus.UNMATCHED, None, None,
                          planned.score, planned.max_score, outcome.unmatched[planned.learner].value))
