"""REST endpoints: /events/ (the event log, newest first by default)."""

from __future__ import annotations

from ninja import Router

from apps.api import filters as f
from apps.api.serializers.events import event_to_dict
from apps.api.support import (
    DATED_LIST_PARAMS,
    PageSource,
    apply_ordering,
    date_filters,
    filter_values,
    invalid,
    page_response,
    query_doc,
)
from apps.api.versions import EVENTS_AFTER, begin
from apps.events.models import Event
from apps.events.selectors import events_by_id
from apps.projects.params import parse_int

CATEGORIES = [value for value, _ in Event.CATEGORIES]
EVENT_ORDER = {"date": "date"}
EVENT_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("project", "string", "An ID or linkname of a project to filter events by."),
    ("category", "string", "An event category to filter events by."),
    ("series", "integer", "An ID of a series to filter events by."),
    ("patch", "integer", "An ID of a patch to filter events by."),
    ("cover", "integer", "An ID of a cover letter to filter events by."),
)

# Beyond the reference (latest version only; documented in docs/openapi-webhooks.yaml).
EVENT_CURSOR_DOC = {
    "parameters": [
        *EVENT_FILTER_DOC["parameters"],
        {
            "in": "query",
            "name": "after",
            "description": "Only events with a larger id than this one, in ascending id order.",
            "schema": {"type": "integer"},
        },
    ]
}


def _after_cursor(request) -> int | None:
    raw = request.GET.get("after", "").strip()
    if not raw:
        return None
    after = parse_int(raw)
    if after is None or after < 0:
        raise invalid({"after": ["Enter a whole number: the id of the last event you have."]})
    return after


def events_list(request):
    ctx = begin(request)
    qs = f.filter_project(Event.objects.all(), request, ctx)
    categories = filter_values(request, "category", ctx)
    if categories:
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown:
            raise invalid(
                {
                    "category": [
                        f"Select a valid choice. {unknown[0]} is not one of the available choices."
                    ]
                }
            )
        qs = qs.filter(category__in=categories)
    for name in ("series", "patch", "cover"):
        qs = f.filter_ids(qs, request, ctx, name, f"{name}_id")
    qs = date_filters(qs, request)
    after = _after_cursor(request) if ctx.since(EVENTS_AFTER) else None
    if after is not None:
        # A cursor that never misses an event, whatever the dates say: larger ids, oldest first.
        qs = qs.filter(pk__gt=after).order_by("id")
    else:
        qs = apply_ordering(qs, request, EVENT_ORDER, "-date")
    pages = PageSource(qs, events_by_id)
    return page_response(request, pages, lambda page: [event_to_dict(e, ctx=ctx) for e in page])


# The same endpoint, documented with or without the ``after`` cursor (EVENTS_AFTER).
router = Router(tags=["events"])
router.get("/", summary="List events.", openapi_extra=EVENT_CURSOR_DOC)(events_list)
router_before_cursor = Router(tags=["events"])
router_before_cursor.get("/", summary="List events.", openapi_extra=EVENT_FILTER_DOC)(events_list)
