"""The course roster (Names and Role Provisioning Services 2.0), and which member each learner is.

A learner in the gradebook is named as ``hml collect`` named them: a login,
an email, or the LMS's own id (with ``--roster``). A member is matched when
one of those equals, exactly, the member's ``user_id``, ``email`` (case
aside) or ``lis_person_sourcedid`` (the login or SIS id). Nothing is
guessed: a learner no member names, or whom two members could be (or two
learners one member), is left unmatched and listed, and gets no grade.

The roster is read page by page up to ``MAX_PAGES`` and ``MAX_MEMBERS``;
every field is bounded text, and a member without a ``user_id`` (the only
thing a score is posted for) is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from pylti1p3.names_roles import NamesRolesProvisioningService

from grader.learner_text import clean
from grader.platforms.lti.connector import PushConnector, platform_call
from grader.platforms.lti.errors import PlatformError

MAX_PAGES = 200
MAX_MEMBERS = 50_000
MAX_FIELD = 255


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str = ""
    sourcedid: str = ""
    name: str = ""
    roles: tuple[str, ...] = ()
    status: str = "Active"

    def keys(self) -> set[str]:
        """The names a gradebook learner could carry for this member (emails compared case aside)."""
        found = {self.user_id}
        if self.sourcedid:
            found.add(self.sourcedid)
        if self.email:
            found.add(self.email.casefold())
        return found


def _field(entry: dict, name: str) -> str:
    value = entry.get(name)
    return clean(value, MAX_FIELD) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def member_of(entry: object) -> Member | None:
    if not isinstance(entry, dict):
        return None
    user_id = _field(entry, "user_id")
    if not user_id:
        return None
    roles = entry.get("roles")
    return Member(user_id=user_id, email=_field(entry, "email"), sourcedid=_field(entry, "lis_person_sourcedid"),
                  name=_field(entry, "name"),
                  roles=tuple(clean(r, MAX_FIELD) for r in roles[:20] if isinstance(r, str))
                  if isinstance(roles, list) else (),
                  status=_field(entry, "status") or "Active")


def roster(connector: PushConnector, memberships_url: str) -> list[Member]:
    """Every member of the course the platform lists (page by page, bounded)."""
    service = NamesRolesProvisioningService(connector, {"context_memberships_url": memberships_url})
    members: list[Member] = []
    url: str | None = memberships_url
    for _ in range(MAX_PAGES):
        with platform_call("reading the roster"):
            page, url = service.get_members_page(url)
        if not isinstance(page, list):
            raise PlatformError("reading the roster: the platform's answer holds no member list")
        members.extend(m for m in map(member_of, page) if m is not None)
        if len(members) > MAX_MEMBERS:
            raise PlatformError(f"reading the roster: more than {MAX_MEMBERS} members")
        if not url:
            return members
    raise PlatformError(f"reading the roster: more than {MAX_PAGES} pages")


class Unmatched(Enum):
    NOT_FOUND = "no member of the course has this name, email or id"
    AMBIGUOUS = "more than one member could be this learner, or this member more than one learner"


@dataclass
class Matching:
    members: dict[str, Member] = field(default_factory=dict)       # learner -> member
    unmatched: dict[str, Unmatched] = field(default_factory=dict)  # learner -> why not


def match(learners: list[str], members: list[Member]) -> Matching:
    """Each learner's member, where exactly one member names them and they alone name that member."""
    by_key: dict[str, set[str]] = {}
    for member in members:
        if member.status == "Deleted":
            continue
        for key in member.keys():
            by_key.setdefault(key, set()).add(member.user_id)
    by_id = {m.user_id: m for m in members}
    # An email matches case aside; a login or an id only as written.
    candidates = {learner: (by_key.get(learner, set()) | by_key.get(learner.casefold(), set()))
                  if "@" in learner else by_key.get(learner, set()) for learner in learners}
    claimed: dict[str, int] = {}
    for found in candidates.values():
        if len(found) == 1:
            user_id = next(iter(found))
            claimed[user_id] = claimed.get(user_id, 0) + 1
    result = Matching()
    for learner, found in candidates.items():
        if not found:
            result.unmatched[learner] = Unmatched.NOT_FOUND
        elif len(found) > 1 or claimed[next(iter(found))] > 1:
            result.unmatched[learner] = Unmatched.AMBIGUOUS
        else:
            result.members[learner] = by_id[next(iter(found))]
    return result
