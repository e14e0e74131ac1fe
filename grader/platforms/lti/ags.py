"""Line items and scores (Assignment and Grade Services 2.0).

One line item (a gradebook column) per exercise, found again on every push
by its ``resourceId`` (the exercise id, which the tool sets when it creates
one) or, for a column an instructor made by hand, its ``tag``. The course's
line items are listed once per push, and an exercise's item is created only
when none is found, at most once per push: pushing many times never makes a
second column (the duplicate columns PrairieLearn #12520 describes).

Scores are posted to ``<line item>/scores`` for the member's ``user_id``,
with the grade out of the exercise's maximum, as ``FullyGraded``.

A line item's id is where its scores go, with the bearer token: every id,
listed or just created, and every next-page link must be a plain URL at the
origin of the course's line items URL (``http.same_origin``). A listed item
elsewhere is kept, so that it is still found (and no second column made),
but nothing is ever posted to it; a next-page link elsewhere, or one seen
before, ends the listing as a failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as LibraryLineItem

from grader.learner_text import clean
from grader.platforms.lti.config import CourseContext
from grader.platforms.lti.connector import PushConnector, platform_call
from grader.platforms.lti.errors import PlatformError
from grader.platforms.lti.http import same_origin

MAX_PAGES = 100
MAX_ITEMS = 5_000
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
TAG = "hml-grader"  # what the tool's own columns carry, besides their resourceId


@dataclass(frozen=True)
class LineItem:
    id: str                 # its URL: scores go to <id>/scores
    label: str = ""
    resource_id: str = ""
    tag: str = ""
    score_maximum: float | None = None
    refused: str = ""       # why no score may go to its id (not at the course's line items address), if so


def line_item_of(entry: object, lineitems_url: str) -> LineItem | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or len(entry["id"]) > 2048:
        return None
    try:
        same_origin(entry["id"], lineitems_url, "the line item's id")
        refused = ""
    except PlatformError as exc:
        refused = str(exc)
    maximum = entry.get("scoreMaximum")
    return LineItem(id=entry["id"], label=_text(entry.get("label")), resource_id=_text(entry.get("resourceId")),
                    tag=_text(entry.get("tag")),
                    score_maximum=float(maximum) if isinstance(maximum, (int, float)) and not isinstance(maximum, bool)
                    else None, refused=clean(refused, 400))


def _text(value: object) -> str:
    return clean(value, 255) if isinstance(value, str) else ""


class LineItems:
    """The linked course's line items, listed once, and the scores posted to them."""

    def __init__(self, connector: PushConnector, context: CourseContext):
        self.context = context
        self.service = AssignmentsGradesService(connector, {"scope": list(context.scopes),
                                                            "lineitems": context.lineitems_url})
        self._items: list[LineItem] | None = None

    def all(self) -> list[LineItem]:
        if self._items is None:
            items: list[LineItem] = []
            base = self.context.lineitems_url
            url: str | None = base
            seen: set[str] = set()
            for _ in range(MAX_PAGES):
                with platform_call("listing the line items"):
                    seen.add(url)
                    page, url = self.service.get_lineitems_page(url)
                    if url:
                        url = same_origin(url, base, "the next page of line items")
                items.extend(item for item in (line_item_of(entry, base) for entry in page) if item is not None)
                if len(items) > MAX_ITEMS:
                    raise PlatformError(f"listing the line items: more than {MAX_ITEMS}")
                if not url:
                    break
                if url in seen:
                    raise PlatformError("listing the line items: the next page is one already read")
            else:
                raise PlatformError(f"listing the line items: more than {MAX_PAGES} pages")
            self._items = items
        return self._items

    def find(self, exercise: str) -> LineItem | None:
        """The exercise's line item: the first whose resourceId is the exercise id, else whose tag is."""
        items = self.all()
        return (next((item for item in items if item.resource_id == exercise), None)
                or next((item for item in items if item.tag == exercise), None))

    def find_or_create(self, exercise: str, label: str, maximum: float) -> LineItem:
        found = self.find(exercise)
        if found is not None:
            return found
        new = (LibraryLineItem().set_resource_id(exercise).set_tag(TAG).set_label(label)
               .set_score_maximum(maximum))
        with platform_call(f"creating the line item of {exercise}"):
            item_id = self.service.create_lineitem(new).get_id()
        if not isinstance(item_id, str) or not item_id or len(item_id) > 2048:
            raise PlatformError(f"creating the line item of {exercise}: the platform's answer has no id")
        item_id = same_origin(item_id, self.context.lineitems_url,
                              f"creating the line item of {exercise}: the new item's id")
        item = LineItem(item_id, label, exercise, TAG, maximum)
        self.all().append(item)  # the next learner's look-up finds it: never created twice in a push
        return item

    def missing_scopes(self, creating: bool) -> list[str]:
        """The AGS scopes a push needs that the platform did not grant at launch."""
        needed = [SCORE_SCOPE] + ([LINEITEM_SCOPE] if creating else [LINEITEM_SCOPE + ".readonly"])
        granted = set(self.context.scopes)
        return [scope for scope in needed
                if scope not in granted and not (scope.endswith(".readonly") and LINEITEM_SCOPE in granted)]

    def post_score(self, item: LineItem, user_id: str, score: float, maximum: float) -> str:
        """Post one score; the platform's answer, bounded, or a ``PlatformError``."""
        if item.refused:
            raise PlatformError(f"posting a score: {item.refused}")
        same_origin(item.id, self.context.lineitems_url, "posting a score: the line item's id")
        grade = (Grade().set_score_given(score).set_score_maximum(maximum).set_user_id(user_id)
                 .set_activity_progress("Completed").set_grading_progress("FullyGraded")
                 .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds")))
        with platform_call("posting a score"):
            answer = self.service.put_grade(grade, LibraryLineItem({"id": item.id}))
        body = answer.get("body")
        return clean(f"accepted{': ' + str(body) if body else ''}", 500)
