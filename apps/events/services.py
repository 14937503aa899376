"""Recording events: the one way any change announces itself."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import transaction

from apps.events.models import Event


@dataclass
class _Batch:
    # Events recorded inside `events_batched()`, written when the block ends.
    events: list[Event] = field(default_factory=list)
    # Project id -> its active webhooks (id, categories), read earlier in this transaction:
    # the events of those projects then need no webhook lookup when they are written.
    webhooks: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)


_batch: ContextVar[_Batch | None] = ContextVar("events_batch", default=None)


def event_record(*, category: str, project, actor=None, **refs) -> Event:
    """Record an event in the current transaction; publish it once that commits.

    Inside `events_batched()` the row is written (and gets its id) when the block ends.
    """
    event = Event(category=category, project=project, actor=actor, **refs)
    batch = _batch.get()
    if batch is not None:
        batch.events.append(event)
    else:
        _events_write([event])
    return event


@contextmanager
def events_batched():
    """Write the events recorded in this block together when it ends (inside its transaction):
    one INSERT and one webhook lookup however many there are. Ids keep the order of recording.
    Nothing is written if the block raises."""
    if _batch.get() is not None:  # an enclosing batch writes them
        yield
        return
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    _events_write(batch.events, webhooks=batch.webhooks)


def events_batch_webhooks(project_id: int, webhooks: list[tuple[int, list[str]]]) -> None:
    """Hand the enclosing batch a project's active webhooks, read in this same transaction
    (ingestion reads them with the project's lock): its events are then written without a
    webhook lookup. Outside a batch, nothing happens."""
    batch = _batch.get()
    if batch is not None:
        batch.webhooks[project_id] = webhooks


def _events_write(
    events: list[Event], *, webhooks: dict[int, list[tuple[int, list[str]]]] | None = None
) -> None:
    from apps.events.publish import event_publish_on_commit
    from apps.webhooks.services import deliveries_create_for_events

    if not events:
        return
    # The webhook outbox rows commit (or not) together with the events.
    with transaction.atomic(savepoint=False):
        Event.objects.bulk_create(events)
        deliveries_create_for_events(events, known=webhooks)
    for event in events:
        event_publish_on_commit(event)


def on_commit(func) -> None:
    """Run func after the current transaction commits (at once outside one)."""
    transaction.on_commit(func)
