"""The JSON of an event, as ``/api/events/`` shows it and webhooks deliver it.

``event_to_dict(event, base_url=settings.SITE_URL)`` gives the latest version's
representation with links under ``<base_url>/api/``; the REST API passes its
own context so links follow the version the client asked for. Load events
with ``apps.events.selectors.events_by_id()`` to avoid a query per event.
"""

from __future__ import annotations

from typing import Any

from apps.api.serializers.checks import check_embedded
from apps.api.serializers.embedded import series_embedded
from apps.api.serializers.patches import comment_embedded, cover_embedded, patch_embedded
from apps.api.serializers.projects import project_embedded, user_embedded
from apps.api.support import LATEST, ApiContext, api_base_for, format_datetime
from apps.api.versions import EVENT_ACTOR
from apps.events.models import Event

# The payload fields of each category, in the order the reference shows them.
PAYLOAD_FIELDS: dict[str, tuple[str, ...]] = {
    Event.COVER_CREATED: ("cover",),
    Event.PATCH_CREATED: ("patch",),
    Event.PATCH_COMPLETED: ("patch", "series"),
    Event.PATCH_STATE_CHANGED: ("patch", "previous_state", "current_state"),
    Event.PATCH_RELATION_CHANGED: ("patch", "previous_relation", "current_relation"),
    Event.PATCH_DELEGATED: ("patch", "previous_delegate", "current_delegate"),
    Event.CHECK_CREATED: ("patch", "check"),
    Event.SERIES_CREATED: ("series",),
    Event.SERIES_COMPLETED: ("series",),
    Event.COVER_COMMENT_CREATED: ("cover", "comment"),
    Event.PATCH_COMMENT_CREATED: ("patch", "comment"),
}


def _relation(relation_id: int | None) -> str | None:
    return None if relation_id is None else str(relation_id)


def _payload_value(event: Event, name: str, ctx: ApiContext) -> Any:
    project = event.project
    if name == "patch":
        patch = event.patch
        return patch_embedded(patch, ctx, project=project) if patch is not None else None
    if name == "cover":
        cover = event.cover
        return cover_embedded(cover, ctx, project=project) if cover is not None else None
    if name == "series":
        series = event.series
        return series_embedded(series, ctx) if series is not None else None
    if name == "previous_state":
        state = event.previous_state
        return state.slug if state is not None else None
    if name == "current_state":
        state = event.current_state
        return state.slug if state is not None else None
    if name == "previous_delegate":
        return user_embedded(event.previous_delegate, ctx)
    if name == "current_delegate":
        return user_embedded(event.current_delegate, ctx)
    if name == "previous_relation":
        return _relation(event.previous_relation_id)
    if name == "current_relation":
        return _relation(event.current_relation_id)
    if name == "check":
        check = event.created_check
        return check_embedded(check, ctx) if check is not None else None
    if name == "comment":
        comment = event.patch_comment if event.patch_comment_id else event.cover_comment
        return comment_embedded(comment, ctx, project=project) if comment else None
    raise ValueError(name)


def event_to_dict(
    event: Event,
    *,
    base_url: str | None = None,
    version: str = LATEST,
    ctx: ApiContext | None = None,
) -> dict[str, Any]:
    """An event as the REST API shows it (latest version unless told otherwise)."""
    if ctx is None:
        if base_url is None:
            raise TypeError("event_to_dict needs base_url or ctx")
        base_url = base_url.rstrip("/")
        ctx = ApiContext(
            version=version,
            api_base=api_base_for(base_url, None if version == LATEST else version),
            site_base=base_url,
        )
    data: dict[str, Any] = {
        "id": event.id,
        "category": event.category,
        "project": project_embedded(event.project, ctx),
        "date": format_datetime(event.date),
    }
    if ctx.since(EVENT_ACTOR):
        data["actor"] = user_embedded(event.actor, ctx)
    data["payload"] = {
        name: _payload_value(event, name, ctx) for name in PAYLOAD_FIELDS.get(event.category, ())
    }
    return data
