"""Reads about events: the log as /api/events/ and webhooks show it."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.events.models import Event
from apps.projects.models import Project, State

# The submissions, series and checks an event's JSON embeds, joined in the same query.
# Projects, users and states are small tables looked up apart (events_with_people):
# joining them too made planning that query cost several times its execution.
EVENT_RELATED = (
    "patch",
    "series",
    "cover",
    "created_check",
    "patch_comment",
    "cover_comment",
)

# Big text fields of embedded submissions are never shown in an event.
EVENT_DEFERRED = (
    "patch__content",
    "patch__diff",
    "patch__headers",
    "cover__content",
    "cover__headers",
    "patch_comment__content",
    "cover_comment__content",
)

# Foreign keys of an event to the small tables, by the table they point to.
LOOKUPS: dict[type[Project] | type[User] | type[State], tuple[str, ...]] = {
    Project: ("project",),
    User: ("actor", "previous_delegate", "current_delegate"),
    State: ("previous_state", "current_state"),
}


def events_for_list() -> QuerySet[Event]:
    """Events with their submissions, series and checks (see events_with_people)."""
    return Event.objects.select_related(*EVENT_RELATED).defer(*EVENT_DEFERRED)


def events_with_people(events: list[Event]) -> list[Event]:
    """Attach projects, users and states to loaded events: a query per table at most."""
    for model, fields in LOOKUPS.items():
        ids = {getattr(e, f"{name}_id") for e in events for name in fields} - {None}
        found = model.objects.in_bulk(ids) if ids else {}
        for event in events:
            for name in fields:
                pk = getattr(event, f"{name}_id")
                if pk is not None and pk in found:
                    setattr(event, name, found[pk])
    return events


def events_by_id(ids: list[int]) -> list[Event]:
    """Events by id, in that order, with everything their JSON shows."""
    rows = {e.pk: e for e in events_for_list().filter(pk__in=ids).order_by()}
    return events_with_people([rows[pk] for pk in ids if pk in rows])


def event_get(event_id: int) -> Event | None:
    found = events_by_id([event_id])
    return found[0] if found else None


def event_latest_id() -> int:
    """The newest event id (0 for an empty log)."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


# What a broadcast needs of an event (publish.event_broadcast's arguments).
BROADCAST_FIELDS = (
    "id",
    "category",
    "project_id",
    "patch_id",
    "series_id",
    "cover_id",
    "previous_relation_id",
    "current_relation_id",
)


def events_after(event_id: int, *, limit: int) -> list[dict]:
    """The oldest `limit` events after an id, with what a broadcast of each needs."""
    return list(
        Event.objects.filter(id__gt=event_id).order_by("id").values(*BROADCAST_FIELDS)[:limit]
    )
