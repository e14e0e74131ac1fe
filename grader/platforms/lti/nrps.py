"""The course roster (Names and Role Provisioning Services 2.0), and which member each learner is.

A learner in the gradebook is named as ``hml collect`` named them: by login
(with ``--roster``), or by the LMS's own id. Learners are matched on one
field of the member, the one the instructor chooses (``MATCH_BY``), and never
across fields: ``login`` (the default) compares with ``lis_person_sourcedid``
only, exactly; ``email`` with ``email`` only, case aside; ``user-id`` with
the platform's LTI ``user_id`` only. So a learner named by a number can never
meet a member whose SIS id, or user id, happens to be that number unless the
instructor said numbers are what to compare. Nothing is guessed: a learner no
member names, or whom two members could be (or two learners one member), is
left unmatched and listed, and gets no grade.

The roster is read page by page up to ``MAX_PAGES`` and ``MAX_MEMBERS``, each
next page at the roster's own address and never one already read; every field
is bounded text, and a member without a ``user_id`` (the only thing a score
is posted for) is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from pylti1p3.names_roles import NamesRolesProvisioningService

from grader.learner_text import clean
from grader.platforms.lti.connector import PushConnector, platform_call
from grader.platforms.lti.errors import PlatformError
from grader.platforms.lti.http import same_origin

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

    def key(self, by: str) -> str:
        """The one name a gradebook learner must carry to be this member, when matching ``by`` (empty: none)."""
        if by == "login":
            return self.sourcedid
        if by == "email":
            return self.email.casefold()
        if by == "user-id":
            return self.user_id
        raise ValueError(f"match by {by!r}: one of {', '.join(MATCH_BY)}")


MATCH_BY = ("login", "email", "user-id")   # the first is the default


def _field(entry: dict, name: str) -> str:
    """A member's field as the platform sent it; one that cleaning would change is left out (matching on a
    cleaned id could post a grade to another member), so that member cannot be matched on it."""
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    value = str(value)
    return value if clean(value, MAX_FIELD) == value else ""


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
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        with platform_call("reading the roster"):
            seen.add(url)
            page, url = service.get_members_page(url)
            if url:
                url = same_origin(url, memberships_url, "the next page of the roster")
        if url in seen:
            raise PlatformError("reading the roster: the next page is one already read")
        if not isinstance(page, list):
            raise PlatformError("reading the roster: the platform's answer holds no member list")
        members.extend(m for m in map(member_of, page) if m is not None)
        if len(members) > MAX_MEMBERS:
            raise PlatformError(f"reading the roster: more than {MAX_MEMBERS} members")
        if not url:
            return members
    raise PlatformError(f"reading the roster: more than {MAX_PAGES} pages")


class Unmatched(Enum):
    NOT_FOUND = "no member of the course has this login, email or id (whichever --match-by compares)"
    AMBIGUOUS = "more than one member could be this learner, or this member more than one learner"


@dataclass
class Matching:
    members: dict[str, Member] = field(default_factory=dict)       # learner -> member
    unmatched: dict[str, Unmatched] = field(default_factory=dict)  # learner -> why not


def match(learners: list[str], members: list[Member], by: str = MATCH_BY[0]) -> Matching:
    """Each learner's member on the one field ``by``: exactly one member has it, and they alone name that member."""
    by_key: dict[str, set[str]] = {}
    for member in members:
        key = member.key(by)
        if member.status == "Deleted" or not key:
            continue
        by_key.setdefault(key, set()).add(member.user_id)
    by_id = {m.user_id: m for m in members}
    # An email matches case aside; a login or an id only as written.
    candidates = {learner: by_key.get(learner.casefold() if by == "email" else learner, set())
                  for learner in learners}
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
