"""Archives: mbox files and Maildir directories, streamed one message at a time."""

from __future__ import annotations

import mailbox
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from django.db import connection

from apps.mail.batch import BATCH, Step, steps_apply, thread_keys
from apps.mail.context import IngestContext
from apps.mail.models import IncomingMail
from apps.mail.parallel import Incoming, parsed_stream
from apps.mail.services import mail_ingest, mail_store_ingest
from apps.series.revisions import revisions_supersede_due

T = TypeVar("T")


@dataclass
class Progress:
    """How far an archive run is: done units out of total (bytes for mbox, mails for Maildir)."""

    done: int
    total: int
    messages: int


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def iter_mbox(path: Path) -> Iterator[tuple[bytes, int]]:
    """(message, bytes read so far) for each message of an mbox; reads line by line."""
    with open(path, "rb") as fh:
        lines: list[bytes] = []
        previous_blank = True
        position = 0
        for line in fh:
            position += len(line)
            if line.startswith(b"From ") and previous_blank:
                if lines:
                    yield _message(lines), position - len(line)
                lines = []
                previous_blank = False
                continue
            lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
        if lines:
            yield _message(lines), position


def _message(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " separator belongs to the mbox, not the mail.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def iter_maildir(path: Path) -> Iterator[tuple[bytes, int]]:
    """(message, messages read so far) for each message of a Maildir, in file-name order."""
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for index, key in enumerate(sorted(box.iterkeys()), start=1):
        yield box.get_bytes(key), index


def archive_size(path: Path) -> int:
    if is_maildir(path):
        return sum(len(os.listdir(path / sub)) for sub in ("cur", "new"))
    return path.stat().st_size


def iter_archive(path: Path) -> Iterator[tuple[bytes, int]]:
    if is_maildir(path):
        return iter_maildir(path)
    if path.is_file():
        return iter_mbox(path)
    raise FileNotFoundError(f"{path} is neither an mbox file nor a Maildir directory")


@contextmanager
def asynchronous_commits():
    """PostgreSQL commits without waiting for the disk while an archive loads.

    The archive is the durable copy and a run resumes where it stopped, so a crash
    that loses the last fraction of a second of commits loses nothing a re-run does
    not restore; waiting for the disk at every message is most of a load's time.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO DEFAULT")


_KINDS = {"patch": "patches", "cover": "covers", "comment": "comments"}


def _kind(mail: IncomingMail) -> str:
    """The summary bucket of an ingested mail: patches, covers, comments, ignored or failed."""
    if mail.status == IncomingMail.PARSED:
        return _KINDS.get(mail.outcome.split(" ", 1)[0], "parsed")
    return mail.status


def messages_ingest(
    messages: list[Incoming], *, list_id: str, context: IngestContext, summary: Counter
) -> None:
    """Store and ingest a batch of parsed messages in one transaction (apps/mail/batch.py),
    each once: a Message-ID already stored (by an earlier run, another archive or the MTA)
    is skipped, one stored but not ingested is ingested."""
    msgids = {m.msgid for m in messages} - {""}
    known = IncomingMail.objects.filter(msgid__in=msgids, list_id=list_id[:255])
    stored = dict(known.exclude(status=IncomingMail.PENDING).values_list("msgid", "status"))
    pending = {m.msgid: m for m in known.filter(status=IncomingMail.PENDING)}
    steps: list[Step] = []
    for message in messages:
        msgid = message.msgid
        if msgid and msgid in stored:
            summary["skipped"] += 1
        elif msgid and msgid in pending:
            # Stored by an earlier run that stopped before ingesting it.
            steps.append(partial(_resume, pending.pop(msgid), message, context))
        else:
            # Stored and ingested at once: the archive itself is the durable copy, and a
            # stopped run resumes.
            steps.append(partial(_store, message, list_id, context))
            if msgid:
                stored[msgid] = "done"
    for mail in steps_apply(steps, context=context, keys=thread_keys(messages)):
        assert mail is not None  # both steps always give one
        summary[_kind(mail)] += 1


def _resume(mail: IncomingMail, message: Incoming, context: IngestContext, alone: bool):
    return mail_ingest(mail, context=context, parsed=message.parsed, alone=alone)


def _store(message: Incoming, list_id: str, context: IngestContext, alone: bool):
    return mail_store_ingest(
        message.raw,
        list_id=list_id,
        context=context,
        parsed=message.parsed,
        msgid=message.msgid,
        alone=alone,
    )


def stream_ingest(
    stream: Iterable[tuple[Incoming, T]],
    *,
    list_id: str,
    context: IngestContext,
    summary: Counter,
    done: Callable[[list[T]], None] | None = None,
) -> None:
    """Ingest parsed messages in batches of BATCH, in order; done(tags) after each batch."""
    batch: list[Incoming] = []
    tags: list[T] = []
    for message, tag in stream:
        batch.append(message)
        tags.append(tag)
        if len(batch) >= BATCH:
            messages_ingest(batch, list_id=list_id, context=context, summary=summary)
            if done:
                done(tags)
            batch, tags = [], []
    if batch:
        messages_ingest(batch, list_id=list_id, context=context, summary=summary)
        if done:
            done(tags)


def archive_ingest(
    path: str | Path,
    *,
    list_id: str = "",
    progress: Callable[[Progress], None] | None = None,
) -> Counter:
    """Store and ingest every message of an archive; skips Message-IDs already stored.

    Returns counts: patches, covers, comments, ignored, failed, skipped.
    """
    path = Path(path)
    if not (is_maildir(path) or path.is_file()):
        raise FileNotFoundError(f"{path} is neither an mbox file nor a Maildir directory")
    total = archive_size(path)
    context = IngestContext()
    summary: Counter = Counter()
    messages = 0
    last_report = 0.0

    def counted() -> Iterator[tuple[bytes, int]]:
        nonlocal messages
        for raw, position in iter_archive(path):
            messages += 1
            yield raw, position

    def done(positions: list[int]) -> None:
        nonlocal last_report
        now = time.monotonic()
        if progress and now - last_report > 0.5:
            last_report = now
            progress(Progress(positions[-1], total, messages))

    with asynchronous_commits():
        stream_ingest(
            parsed_stream(counted()), list_id=list_id, context=context, summary=summary, done=done
        )
    # The archive is all here: the reroll matches by name wait for nothing more of it.
    revisions_supersede_due()
    if progress:
        progress(Progress(total, total, messages))
    return summary
