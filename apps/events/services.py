"""Recording events: the one way any change announces itself."""

from __future__ import annotations

from django.db import transaction

from apps.events.models import Event


def event_record(*, category: str, project, actor=None, **refs) -> Event:
    """Record an event in the current transaction; publish it once that commits."""
    from apps.webhooks.services import deliveries_create_for_event

    # The webhook outbox rows commit (or not) together with the event.
    with transaction.atomic(savepoint=False):
        event = Event.objects.create(category=category, project=project, actor=actor, **refs)
        deliveries_create_for_event(event)
    from apps.events.publish import event_publish_on_commit

    event_publish_on_commit(event)
    return event


def on_commit(func) -> None:
    """Run func after the current transaction commits (at once outside one)."""
    transaction.on_commit(func)
