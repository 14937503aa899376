"""Reads about events: the log as /api/events/ and webhooks show it."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.events.models import Event

# Everything an event's JSON embeds, joined in the same query.
EVENT_RELATED = (
    "project",
    "actor",
    "patch",
    "series",
    "cover",
    "previous_state",
    "current_state",
    "previous_delegate",
    "current_delegate",
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


def events_for_list() -> QuerySet[Event]:
    """Events with everything their JSON shows, in one query."""
    return Event.objects.select_related(*EVENT_RELATED).defer(*EVENT_DEFERRED)


def event_get(event_id: int) -> Event | None:
    return events_for_list().filter(pk=event_id).first()
