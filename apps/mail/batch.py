"""Batched ingestion: many mails in one transaction, each as if ingested alone.

Archives (parsearchive, public-inbox imports) and reingest apply their mails in
batches of BATCH, in order, through the same per-mail code as the live path
(`apps/mail/services.py`), in one transaction a batch instead of one a mail: the
batch's events are written together at its end (`events_batched`), each project is
locked once a batch (`IngestContext.project_locked`).

A mail that raises rolls the whole batch back; the batch then runs again with that
mail in a savepoint of its own (where it fails alone and its outcome is recorded as
the one-by-one path records it), so what a batch stores is what ingesting its mails
one by one in the same order stores. A crash loses at most the batch in flight: the
archive (or the stored mail) is the source, and a re-run skips what is stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial

from django.db import connection, transaction
from django.db.models import Model

from apps.events.services import events_batched, events_flush
from apps.mail.arrival import BatchLookups, LiveLookups
from apps.mail.context import IngestContext
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.parallel import Incoming, parsed_stream
from apps.mail.parse import ParsedMail
from apps.mail.services import mail_ingest_pending
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.series.models import Series, SeriesReference
from apps.series.references import references_at_once, references_deferred

# Mails a transaction.
BATCH = 200
# Mails of one batch that may fail before the rest of it runs in a savepoint a mail.
MAX_REPLAYS = 3

# One mail: called with alone (its own savepoint, failures recorded) or not (an
# exception rolls the batch back), gives the mail with its outcome (None: not pending).
Step = Callable[[bool], IncomingMail | None]


class _Failed(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def thread_keys(messages: Iterable[Incoming]) -> set[str]:
    """The Message-IDs the thread lookups of these mails ask about (BatchLookups)."""
    keys: set[str] = set()
    for message in messages:
        if isinstance(message.parsed, ParsedMail):
            keys.add(message.parsed.msgid)
            keys.update(message.parsed.refs)
    return keys


def steps_apply(
    steps: list[Step], *, context: IngestContext, keys: Iterable[str] = ()
) -> list[IncomingMail | None]:
    """Run the steps in order in one transaction, as if each ran in its own; their mails.

    keys: the Message-IDs their thread lookups ask about (thread_keys), read at once."""
    alone: set[int] = set()
    keys = set(keys)
    while True:
        try:
            mails = _attempt(steps, context, alone, keys)
        except _Failed as failed:
            # What the rolled-back transaction cached is gone with it.
            context.people.clear()
            alone.add(failed.index)
            if len(alone) > MAX_REPLAYS:
                alone = set(range(len(steps)))
            continue
        context.batches += 1
        if context.batches & (context.batches - 1) == 0 and context.batches > 1:  # 2, 4, 8…
            statistics_refresh()
        return mails


# What the batches' statements look rows up by: the columns whose statistics
# statistics_refresh keeps current (not the mail's text, which nothing filters on).
_LOOKED_UP: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (Patch, ("id", "project", "msgid", "series", "number", "state", "submitter", "date")),
    (Cover, ("id", "project", "msgid")),
    (PatchComment, ("id", "patch", "msgid")),
    (CoverComment, ("id", "cover", "msgid")),
    (Series, ("id", "project", "submitter", "name", "version", "date", "change_id", "cover")),
    (SeriesReference, ("project", "series", "msgid")),
    (AwaitedMessage, ("project", "msgid", "kind", "series", "mail")),
    (IncomingMail, ("project", "msgid", "list_id", "status")),
)


def statistics_refresh() -> None:
    """ANALYZE what the batches look rows up by, after a run's 2nd, 4th, 8th… batch.

    A load into new or small tables grows them faster than autovacuum analyzes them, and
    PostgreSQL then plans with the sizes it last saw: at 20,000 messages, looking up a
    reply's parent among the comments joined from all of the project's patches (8 ms)
    instead of from the few comments with its Message-IDs. Refreshed as the run's batches
    double, the statistics stay within a factor of two of a table that starts empty. A
    run of one batch (an inbox followed every few minutes, a few mails reingested)
    analyzes nothing."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, names in _LOOKED_UP:
            fields = model._meta.concrete_fields
            columns = ", ".join(quote(f.column) for f in fields if f.name in names and f.column)
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)} ({columns})")


def _attempt(
    steps: list[Step], context: IngestContext, alone: set[int], keys: set[str]
) -> list[IncomingMail | None]:
    context.locked = {}
    context.lookups = BatchLookups(keys)
    try:
        with transaction.atomic(), _batch_session(), events_batched(), references_deferred():
            mails: list[IncomingMail | None] = []
            for index, step in enumerate(steps):
                if index in alone:
                    # Its savepoint may roll back: the events and mails before it must not go too.
                    events_flush()
                    context.lookups.flush()
                    with references_at_once():
                        mails.append(step(True))
                    # Its savepoint may have rolled back what it noted: read them again.
                    context.lookups.reset()
                    continue
                try:
                    mails.append(step(False))
                except Exception as exc:
                    raise _Failed(index) from exc
            context.lookups.flush()
            return mails
    finally:
        context.locked = None
        context.lookups = LiveLookups()


# For the batch's transaction (set_config(..., true) is SET LOCAL): the mail's text
# compressed by lz4 where the server has it, not pglz. A patch's INSERT went 0.75 ->
# 0.61 ms, a batch's mails' 3.8 -> 1.6 ms (PostgreSQL's CPU). What pglz stored stays so;
# both are read alike.
_BATCH_SETTINGS = """
SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings
WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
"""


@contextmanager
def _batch_session():
    """_BATCH_SETTINGS, and the batch's values bound on the server.

    Django's cursors on PostgreSQL bind parameters on the client: every statement is
    new text to the server, planned each time, and each mail's raw bytes, headers and
    diff are escaped into it by Python. A batch runs hundreds of the same statements, so
    its cursors bind on the server instead: the values travel apart from the text, and
    psycopg prepares what the connection has run `prepare_threshold` times (OPTIONS,
    config/settings.py). Their generic plans are only as good as the statistics they
    were made from: see statistics_refresh (before it, they made a load of 20,000
    messages take 125 s instead of 106 s with a plan for each execution; with it, 68 s
    against 78 s). Restored when the batch ends: the rest of the process keeps
    Django's default."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    before = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_SETTINGS)
    try:
        yield
    finally:
        raw.cursor_factory = before


def mails_reingest(mail_ids: list[int], *, context: IngestContext) -> Counter:
    """Ingest stored mails (pending ones) in this order, BATCH a transaction, parsed by worker
    processes; counts by status."""
    summary: Counter = Counter()

    def stored() -> Iterator[tuple[bytes, int]]:
        for start in range(0, len(mail_ids), BATCH):
            chunk = mail_ids[start : start + BATCH]
            raws = dict(IncomingMail.objects.filter(pk__in=chunk).values_list("pk", "raw"))
            yield from ((bytes(raws[pk]), pk) for pk in chunk if pk in raws)

    def apply(batch: list[tuple[Incoming, int]]) -> None:
        steps: list[Step] = [partial(_reingest, pk, message, context) for message, pk in batch]
        keys = thread_keys(message for message, _ in batch)
        mails = steps_apply(steps, context=context, keys=keys)
        for (_, pk), mail in zip(batch, mails, strict=True):
            if mail is None:  # not pending any more: someone else ingested it
                mail = IncomingMail.objects.only("status").get(pk=pk)
            summary[mail.status] += 1

    batch: list[tuple[Incoming, int]] = []
    for item in parsed_stream(stored()):
        batch.append(item)
        if len(batch) >= BATCH:
            apply(batch)
            batch = []
    if batch:
        apply(batch)
    return summary


def _reingest(mail_id: int, message: Incoming, context: IngestContext, alone: bool):
    return mail_ingest_pending(mail_id, context=context, parsed=message.parsed, alone=alone)
