"""Publishing committed events to open pages (Channels groups)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.events.models import Event

log = logging.getLogger(__name__)


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


def event_publish_on_commit(event: Event) -> None:
    """Schedule the event's broadcast for when its transaction has committed."""
    event_id, project_id, category = event.id, event.project_id, event.category
    transaction.on_commit(lambda: event_broadcast(event_id, project_id, category))


def event_broadcast(event_id: int, project_id: int, category: str) -> None:
    """Tell every page watching the project that an event exists; pages fetch what they show."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "event.created", "event_id": event_id, "category": category}
    try:
        async_to_sync(layer.group_send)(project_group(project_id), message)
    except Exception:  # a broker that is down delays live updates, never the change itself
        log.warning("could not broadcast event %s", event_id, exc_info=True)
