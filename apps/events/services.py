"""Recording events: the one way any change announces itself.

Events know nothing of who listens: webhooks, live pages and the like register a
listener (events_listen), called with the events right after they are written.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from apps.events.models import Event

Listener = Callable[[list[Event]], None]

_listeners: list[Listener] = []
# Events recorded inside `events_batched()` blocks, written when the outermost one ends:
# one list an open block, outermost first.
_batch: ContextVar[tuple[list[Event], ...]] = ContextVar("events_batch", default=())


def events_listen(listener: Listener) -> None:
    """Register listener(events): called inside the transaction that wrote the events,
    right after they are written (ids set), once per write. A listener that acts after
    commit schedules it itself with transaction.on_commit."""
    if listener not in _listeners:
        _listeners.append(listener)


def event_record(*, category: str, project, actor=None, **refs) -> Event:
    """Record an event in the current transaction; its listeners hear of it at once.

    Inside `events_batched()` the row is written (and gets its id) when the block ends.
    """
    event = Event(category=category, project=project, actor=actor, **refs)
    stack = _batch.get()
    if stack:
        stack[-1].append(event)
    else:
        _events_write([event])
    return event


@contextmanager
def events_batched():
    """Write the events recorded in this block together when it ends (inside its
    transaction): one INSERT, and one call of each listener, however many there are.
    Ids keep the order of recording. Nothing is written if the block raises.

    Nested in another such block (one mail of a batch of mails), its events join the
    enclosing block's when it ends, and none of them do if it raises."""
    stack = _batch.get()
    batch: list[Event] = []
    token = _batch.set((*stack, batch))
    try:
        yield
    finally:
        _batch.reset(token)
    if stack:  # the enclosing block writes them
        stack[-1].extend(batch)
    else:
        _events_write(batch)


def events_flush() -> None:
    """Write the events the open batched blocks hold so far, now (ids in recording order).

    Before deleting a row events point at (the delete takes its events along), and before
    a part of a batch that may be rolled back on its own (a savepoint)."""
    events: list[Event] = []
    for batch in _batch.get():
        events += batch
        batch.clear()
    _events_write(events)


def _events_write(events: list[Event]) -> None:
    if not events:
        return
    # What listeners write (the webhook outbox) commits, or not, with the events.
    with transaction.atomic(savepoint=False):
        Event.objects.bulk_create(events)
        for listener in _listeners:
            listener(events)


def on_commit(func) -> None:
    """Run func after the current transaction commits (at once outside one)."""
    transaction.on_commit(func)
