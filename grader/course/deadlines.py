"""When work is due, what lateness costs, and who was given more time.

Read from the assignment file (``grader.course.assignment``)::

    [due]
    hybrid_placement = 2026-12-01T23:59:00Z
    [late]
    penalty_per_day = 0.10   # share of the exercise's points lost per started day late
    max_days = 5             # later than this: no points
    grace_days = 2           # per learner, for the whole course, used automatically
    [extensions.ann]
    hybrid_placement = 2026-12-05T23:59:00Z

The penalty is a share of the exercise's full points, as Canvas's late policy
deducts it, taken from what the learner earned and never below zero. Grace
days are spent automatically, where they save the learner the most points
(none on work that would lose nothing); what they cover costs nothing. A day
late is any started day.
Everything here is computed from the times the intake recorded: changing the
policy or an extension changes the grades without regrading.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

DAY = timedelta(days=1)
MAX_GRACE_DAYS = 30
_LAST = datetime.max.replace(tzinfo=timezone.utc)  # where an exercise without a due date sorts


class DeadlineError(ValueError):
    """A deadline, policy or extension the file cannot mean (the assignment names its file and line)."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key  # the field at fault, dotted (``late.penalty_per_day``), to find its line


def aware(value: object, key: str) -> datetime:
    """``value`` (a TOML datetime or an ISO 8601 string) as a time with its zone; a time without one is refused."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DeadlineError(f"{key}: {value!r} is not a date and time (write 2026-12-01T23:59:00Z)", key) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise DeadlineError(f"{key}: a date needs a time and a time zone (write {value}T23:59:00Z)", key)
    if not isinstance(value, datetime):
        raise DeadlineError(f"{key}: expected a date and time such as 2026-12-01T23:59:00Z", key)
    if value.tzinfo is None or value.utcoffset() is None:
        raise DeadlineError(f"{key}: {value.isoformat()} has no time zone (add Z for UTC, or an offset such as "
                            f"+01:00)", key)
    return value


@dataclass(frozen=True)
class LatePolicy:
    penalty_per_day: float = 0.0  # share of the exercise's points, per started day late
    max_days: int | None = None   # later than this (after grace days): no points
    grace_days: int = 0           # per learner, for the whole course


@dataclass(frozen=True)
class Lateness:
    """How late one submission was, and what that costs."""

    days_late: int = 0         # started days after the learner's own due date
    grace_days_used: int = 0
    share_lost: float = 0.0    # of the exercise's full points, 0 to 1

    @property
    def charged_days(self) -> int:
        return self.days_late - self.grace_days_used


ON_TIME = Lateness()


@dataclass(frozen=True)
class Deadlines:
    due: dict[str, datetime] = field(default_factory=dict)                    # exercise -> due
    late: LatePolicy = LatePolicy()
    extensions: dict[str, dict[str, datetime]] = field(default_factory=dict)  # learner -> exercise -> due

    def due_for(self, learner: str, exercise: str) -> datetime | None:
        """The learner's own due date for ``exercise``: an extension, else the class's; None when none is set."""
        return self.extensions.get(learner, {}).get(exercise, self.due.get(exercise))

    def lateness(self, learner: str, submitted: dict[str, datetime | None],
                 worth: dict[str, tuple[float, float]] | None = None) -> dict[str, Lateness]:
        """Each of a learner's submissions' lateness, grace days spent where they save the most points.

        ``submitted``: exercise -> when it was handed in (None: not known, counted on time).
        ``worth``: exercise -> (points earned before lateness, the exercise's full points); without it, every
        exercise counts as full marks. Among ways of spending grace days that save as many points, the one
        spending the fewest is taken, and of those the one that spends them on earlier due dates.
        """
        late = {}
        for exercise, when in submitted.items():
            due = self.due_for(learner, exercise)
            late[exercise] = days_after(when, due) if when is not None and due is not None else 0
        # Only late work can use grace days, and never more days than it is late: that bounds the search to
        # (late exercises) x (grace days that can matter), whatever the file says.
        order = sorted((e for e in late if late[e]),
                       key=lambda e: (self.due_for(learner, e) is None, self.due_for(learner, e) or _LAST, e))
        worth = worth or {}

        def cost(exercise: str, charged: int) -> float:
            earned, full = worth.get(exercise, (1.0, 1.0))
            return min(earned, self._share_lost(charged) * full)

        @functools.lru_cache(maxsize=None)
        def best(index: int, grace: int) -> tuple[float, int]:
            """The least points lost from ``order[index:]`` with ``grace`` days, and the days that spends."""
            if index == len(order):
                return 0.0, 0
            exercise = order[index]
            options = []
            for used in range(min(grace, late[exercise]) + 1):
                lost, spent = best(index + 1, grace - used)
                options.append((round(cost(exercise, late[exercise] - used) + lost, 9), spent + used, -used))
            lost, spent, _ = min(options)
            return lost, spent

        result = {exercise: ON_TIME for exercise in late if not late[exercise]}
        grace = min(self.late.grace_days, sum(late[e] for e in order))
        for index, exercise in enumerate(order):
            target = best(index, grace)
            used = next(u for u in range(min(grace, late[exercise]), -1, -1)
                        if (round(cost(exercise, late[exercise] - u) + best(index + 1, grace - u)[0], 9),
                            best(index + 1, grace - u)[1] + u) == target)
            grace -= used
            result[exercise] = Lateness(late[exercise], used, self._share_lost(late[exercise] - used))
        return {exercise: result[exercise] for exercise in late}

    def _share_lost(self, charged_days: int) -> float:
        if charged_days <= 0:
            return 0.0
        if self.late.max_days is not None and charged_days > self.late.max_days:
            return 1.0
        return min(1.0, round(self.late.penalty_per_day * charged_days, 9))


def days_after(when: datetime, due: datetime) -> int:
    """Started days from ``due`` to ``when``: a minute late is one day, 24 h and a minute are two."""
    if when <= due:
        return 0
    return math.ceil((when - due) / DAY)


def read_deadlines(data: dict, exercises: list[str]) -> Deadlines:
    """The ``[due]``, ``[late]`` and ``[extensions.LEARNER]`` tables of an assignment file's ``data``."""
    due = {exercise: aware(value, f"due.{exercise}") for exercise, value in _table(data, "due").items()}
    for exercise in due:
        _assigned(exercise, exercises, f"due.{exercise}")
    extensions: dict[str, dict[str, datetime]] = {}
    for learner, own in _table(data, "extensions").items():
        if not isinstance(own, dict):
            raise DeadlineError(f"extensions.{learner}: expected a table of exercise = due date", f"extensions.{learner}")
        for exercise, value in own.items():
            key = f"extensions.{learner}.{exercise}"
            _assigned(exercise, exercises, key)
            extensions.setdefault(learner, {})[exercise] = aware(value, key)
    return Deadlines(due, _policy(_table(data, "late")), extensions)


def _policy(late: dict) -> LatePolicy:
    unknown = set(late) - {"penalty_per_day", "max_days", "grace_days"}
    if unknown:
        key = sorted(unknown)[0]
        raise DeadlineError(f"late.{key}: not a late-policy field (penalty_per_day, max_days, grace_days)",
                            f"late.{key}")
    penalty = late.get("penalty_per_day", 0.0)
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not 0 <= penalty <= 1 \
            or math.isnan(penalty):
        raise DeadlineError(f"late.penalty_per_day: {penalty!r} is not a share between 0 and 1",
                            "late.penalty_per_day")
    counts = {}
    for name in ("max_days", "grace_days"):
        value = late.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise DeadlineError(f"late.{name}: {value!r} is not a whole number of days, 0 or more", f"late.{name}")
        counts[name] = value
    if (counts["grace_days"] or 0) > MAX_GRACE_DAYS:
        # Spending them well is a search over the days each late exercise could use: bounded, it stays instant.
        raise DeadlineError(f"late.grace_days: {counts['grace_days']} is more than {MAX_GRACE_DAYS}; a course gives "
                            f"a few (or set no due date)", "late.grace_days")
    return LatePolicy(float(penalty), counts["max_days"], counts["grace_days"] or 0)


def _table(data: dict, name: str) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise DeadlineError(f"{name}: expected a table ([{name}])", name)
    return table


def _assigned(exercise: str, exercises: list[str], key: str) -> None:
    if exercise not in exercises:
        raise DeadlineError(f"{key}: {exercise!r} is not one of the assignment's exercises", key)
