"""Recording events: the one way any change announces itself."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import DatabaseError, connections, router, transaction
from django.db.models import AutoField, Model
from django.db.models.sql import InsertQuery, UpdateQuery

from apps.events.models import Event


@dataclass
class _Batch:
    # Events recorded inside `events_batched()`, written when the block ends.
    events: list[Event] = field(default_factory=list)
    # Project id -> its active webhooks (id, categories), read earlier in this transaction:
    # the events of those projects then need no webhook lookup when they are written.
    webhooks: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)
    # A row to save with the events, in the statement that inserts them (events_batch_save).
    row: tuple[Model, list[str] | None] | None = None


_batch: ContextVar[_Batch | None] = ContextVar("events_batch", default=None)

_listeners: list[Callable[[list[Event]], None]] = []


def events_listen(listener: Callable[[list[Event]], None]) -> None:
    """Register listener(events): called inside the transaction that wrote the events,
    right after they are written (ids set), once per write. A listener that acts after
    commit schedules it itself with transaction.on_commit."""
    _listeners.append(listener)


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
    one INSERT and one webhook lookup however many there are (none when the webhooks of their
    projects were handed over: events_batch_webhooks). Ids keep the order of recording.
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
    if batch.row is not None and not batch.events:
        row, update_fields = batch.row
        row.save(update_fields=update_fields)
        return
    _events_write(batch.events, webhooks=batch.webhooks, row=batch.row)


def events_batch_save(row: Model, *, update_fields: list[str] | None = None) -> None:
    """Save a row (INSERT, or UPDATE of update_fields) when the enclosing batch ends, on
    PostgreSQL in the same statement as its events' INSERT: the last write of a block whose
    rest reads nothing of it (ingestion's outcome on the mail). Elsewhere: saved at once."""
    batch = _batch.get()
    db = router.db_for_write(type(row), instance=row)
    if (
        batch is None
        or batch.row is not None
        or connections[db].vendor != "postgresql"
        or db != router.db_for_write(Event)
    ):
        row.save(update_fields=update_fields)
        return
    batch.row = (row, update_fields)


def events_batch_webhooks(project_id: int, webhooks: list[tuple[int, list[str]]]) -> None:
    """Hand the enclosing batch a project's active webhooks, read in this same transaction
    (ingestion reads them with the project's lock): its events are then written without a
    webhook lookup. Outside a batch, nothing happens."""
    batch = _batch.get()
    if batch is not None:
        batch.webhooks[project_id] = webhooks


def _events_write(
    events: list[Event],
    *,
    webhooks: dict[int, list[tuple[int, list[str]]]] | None = None,
    row: tuple[Model, list[str] | None] | None = None,
) -> None:
    from apps.webhooks.services import deliveries_create_for_events

    if not events:
        return
    # The webhook outbox rows commit (or not) together with the events.
    with transaction.atomic(savepoint=False):
        if row is None:
            Event.objects.bulk_create(events)
        else:
            _events_insert_with(events, *row)
        deliveries_create_for_events(events, known=webhooks)
        for listener in _listeners:
            listener(events)


def _events_insert_with(events: list[Event], row: Model, update_fields: list[str] | None) -> None:
    """Insert the events and save `row` in one statement (PostgreSQL: two data-modifying
    WITH queries), as bulk_create and row.save(update_fields=...) would have."""
    db = router.db_for_write(Event)
    model, opts = type(row), type(row)._meta
    row._prepare_related_fields_for_save(operation_name="save")
    pk_column = connections[db].ops.quote_name(opts.pk.column)
    inserting = not row._is_pk_set()
    if inserting:
        fields = [f for f in opts.local_concrete_fields if f is not opts.auto_field]
        query = InsertQuery(model)
        query.insert_values([f for f in fields if not f.generated], [row])
        compiler = query.get_compiler(using=db)
        compiler.returning_fields = [opts.pk]
        ((row_sql, row_params),) = compiler.as_sql()
    else:
        names = set(update_fields) if update_fields is not None else None
        fields = [
            f
            for f in opts.local_concrete_fields
            if not f.primary_key
            and not f.generated
            and (names is None or f.name in names or f.attname in names)
        ]
        query = UpdateQuery(model)
        query.add_filter("pk", row.pk)
        query.add_update_fields([(f, None, f.pre_save(row, False)) for f in fields])
        row_sql, row_params = query.get_compiler(using=db).as_sql()
        row_sql += f" RETURNING {pk_column}"

    for event in events:
        event._prepare_related_fields_for_save(operation_name="bulk_create")
    event_fields = [
        f for f in Event._meta.concrete_fields if not f.generated and not isinstance(f, AutoField)
    ]
    query = InsertQuery(Event)
    query.insert_values(event_fields, events)
    compiler = query.get_compiler(using=db)
    compiler.returning_fields = [Event._meta.pk]
    ((events_sql, events_params),) = compiler.as_sql()

    with connections[db].cursor() as cursor:
        cursor.execute(
            f"WITH pw_row AS ({row_sql}), pw_events AS ({events_sql}) "
            "SELECT 0, pw_row.* FROM pw_row UNION ALL SELECT 1, pw_events.* FROM pw_events",
            (*row_params, *events_params),
        )
        returned = cursor.fetchall()
    row_ids = [pk for kind, pk in returned if kind == 0]
    if not row_ids:
        raise DatabaseError("Save with update_fields did not affect any rows.")
    if inserting:
        row.pk = row_ids[0]
        row._state.adding = False
        row._state.db = db
    # One INSERT takes its ids from the sequence in the order of its rows.
    event_ids = sorted(pk for kind, pk in returned if kind == 1)
    assert len(event_ids) == len(events)
    for event, pk in zip(events, event_ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = db


def on_commit(func) -> None:
    """Run func after the current transaction commits (at once outside one)."""
    transaction.on_commit(func)
