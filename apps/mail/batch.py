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
from functools import partial

from django.db import transaction

from apps.events.services import events_batched, events_flush
from apps.mail.arrival import BatchLookups, LiveLookups
from apps.mail.context import IngestContext
from apps.mail.models import IncomingMail
from apps.mail.parallel import Incoming, parsed_stream
from apps.mail.parse import ParsedMail
from apps.mail.services import mail_ingest_pending

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
            return _attempt(steps, context, alone, keys)
        except _Failed as failed:
            # What the rolled-back transaction cached is gone with it.
            context.people.clear()
            alone.add(failed.index)
            if len(alone) > MAX_REPLAYS:
                alone = set(range(len(steps)))


def _attempt(
    steps: list[Step], context: IngestContext, alone: set[int], keys: set[str]
) -> list[IncomingMail | None]:
    context.locked = {}
    context.lookups = BatchLookups(keys)
    try:
        with transaction.atomic(), events_batched():
            mails: list[IncomingMail | None] = []
            for index, step in enumerate(steps):
                if index in alone:
                    # Its savepoint may roll back: the events and mails before it must not go too.
                    events_flush()
                    context.lookups.flush()
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
