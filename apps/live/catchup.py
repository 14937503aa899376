"""Catch-up: the events a page missed, read from the durable Event log in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q

from apps.events.models import Event
from apps.live.pages import LivePage

# Past this many missed events a page re-renders its regions instead of replaying.
CATCHUP_LIMIT = 200
# Ids are taken at insert, not at commit: an event with an id below the page's
# cursor may commit after it. Events this close before the cursor's are
# replayed too (pages apply every event idempotently, so a repeat is harmless).
LATE_COMMIT_SECONDS = 10


@dataclass
class Missed:
    events: list[dict] = field(default_factory=list)
    # The log position the page is at once it has applied this (or reloaded).
    cursor: int = 0
    too_many: bool = False


def catchup_limit() -> int:
    return int(getattr(settings, "LIVE_CATCHUP_LIMIT", CATCHUP_LIMIT))


def event_ref(event_id: int | None, category: str, **refs) -> dict:
    """The shape of an event a page reacts to; broadcasts carry the same keys."""
    return {
        "event_id": event_id,
        "category": category,
        "project_id": refs.get("project_id"),
        "patch_id": refs.get("patch_id"),
        "series_id": refs.get("series_id"),
        # Below the page's cursor: maybe already shown, so it may update what the
        # page has but never counts as new.
        "late": bool(refs.get("late")),
    }


def events_missed(page: LivePage, last: int, *, limit: int | None = None) -> Missed:
    """Events in the page's scope after `last` (and late commits just before it), by id."""
    limit = catchup_limit() if limit is None else limit
    since = Q(id__gt=last)
    anchor = Event.objects.filter(id=last).values_list("date", flat=True).first() if last else None
    if anchor is not None:
        grace = timedelta(
            seconds=getattr(settings, "LIVE_LATE_COMMIT_SECONDS", LATE_COMMIT_SECONDS)
        )
        since |= Q(id__lt=last, date__gte=anchor - grace)
    rows = list(
        Event.objects.filter(page.event_filter())
        .filter(since)
        .order_by("id")
        .values_list("id", "category", "project_id", "patch_id", "series_id")[: limit + 1]
    )
    if len(rows) > limit:
        newest = Event.objects.filter(page.event_filter()).aggregate(m=Max("id"))["m"] or last
        return Missed(cursor=max(newest, last), too_many=True)
    events = [
        event_ref(
            pk,
            category,
            project_id=project_id,
            patch_id=patch_id,
            series_id=series_id,
            late=pk < last,
        )
        for pk, category, project_id, patch_id, series_id in rows
    ]
    return Missed(events=events, cursor=max([last, *(r[0] for r in rows)]))
