"""Writing the thread index: SeriesReference and AwaitedMessage rows.

One mail at a time, rows are written at once. A batch of mails (apps/mail/batch.py)
writes them inside `references_deferred()`: they wait, and go in two statements (one
per table) when the block ends or just before a statement that reads or deletes such
rows — every such reader calls `references_flush()` first, so it sees what it would
have seen with each row written at once. The thread lookups of a batch read its own
copy (BatchLookups), kept in step by the callers; that is why most of a batch's rows
wait: about one INSERT a message, the largest single count in a batched load.

Written together, the rows come out as written one by one: a SeriesReference is an
upsert (the last one for a Message-ID wins), an AwaitedMessage an insert unless it is
there (the first one wins), and the two tables do not refer to each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from apps.series.models import AwaitedMessage, SeriesReference

Row = SeriesReference | AwaitedMessage

# The rows waiting in the innermost deferred block; None: written at once.
_pending: ContextVar[list[Row] | None] = ContextVar("references_pending", default=None)


def references_add(rows: Sequence[Row]) -> None:
    """Write these rows: now, or with the deferred block's others."""
    pending = _pending.get()
    if pending is None:
        _write(rows)
    else:
        pending.extend(rows)


def references_flush() -> None:
    """Write the rows waiting (before reading or deleting thread-index rows)."""
    pending = _pending.get()
    if pending:
        rows = list(pending)
        pending.clear()
        _write(rows)


@contextmanager
def references_deferred() -> Iterator[None]:
    """Rows added inside wait until a reader needs them or the block ends (nothing is
    written if it raises: its transaction is rolled back)."""
    token = _pending.set([])
    try:
        yield
        references_flush()
    finally:
        _pending.reset(token)


@contextmanager
def references_at_once() -> Iterator[None]:
    """Inside a deferred block: rows are written at once (a mail in a savepoint of its
    own, which may roll back without the rest of the batch)."""
    references_flush()
    token = _pending.set(None)
    try:
        yield
    finally:
        _pending.reset(token)


def _write(rows: Sequence[Row]) -> None:
    members: dict[tuple[int, str], SeriesReference] = {}
    awaited: list[AwaitedMessage] = []
    for row in rows:
        if isinstance(row, SeriesReference):
            members[(row.project_id, row.msgid)] = row
        else:
            awaited.append(row)
    if members:
        SeriesReference.objects.bulk_create(
            list(members.values()),
            update_conflicts=True,
            unique_fields=["project", "msgid"],
            update_fields=["series"],
        )
    if awaited:
        AwaitedMessage.objects.bulk_create(awaited, ignore_conflicts=True)
