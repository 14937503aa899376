"""Parsing archives in worker processes while one writer applies them (apps/mail/batch.py).

Parsing is pure (apps/mail/parse: no database), so worker processes turn raw mails
into `Incoming` (the Message-ID, and the ParsedMail or the parse error), picklable,
and hand them back in archive order. The workers never wait on the database; the
writer does not parse while they keep up (when they do not, it parses a chunk no
worker has started rather than wait for it). At most WINDOW_PER_WORKER chunks a worker are in flight, so
memory stays flat whatever the archive's size. Workers are started by a fork server:
they do not inherit the writer's database connection (they never open one).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from apps.mail.parse import MailParseError, ParsedMail, parse_mail
from apps.mail.parse.headers import peek_msgid
from apps.mail.workerboot import worker_start

# Mails a worker parses per task, and tasks in flight per worker.
CHUNK = 64
WINDOW_PER_WORKER = 3

T = TypeVar("T")


@dataclass
class Incoming:
    """A raw mail and what parsing made of it (parsed is the error when it failed)."""

    raw: bytes
    msgid: str
    parsed: ParsedMail | MailParseError


def incoming(raw: bytes) -> Incoming:
    try:
        parsed: ParsedMail | MailParseError = parse_mail(raw)
    except MailParseError as exc:
        parsed = exc
    return Incoming(raw=raw, msgid=peek_msgid(raw), parsed=parsed)


def _parse_chunk(raws: list[bytes]) -> list[Incoming]:
    return [incoming(raw) for raw in raws]


def parsed_stream(
    items: Iterable[tuple[bytes, T]], *, workers: int | None = None
) -> Iterator[tuple[Incoming, T]]:
    """(Incoming, tag) for each (raw, tag), in order, parsed by `workers` processes."""
    workers = settings.PARSE_WORKERS if workers is None else workers
    # A daemonic process (a celery prefork worker: the follow-inboxes job) may not start
    # processes of its own; it parses in itself.
    if workers <= 1 or multiprocessing.current_process().daemon:
        for raw, tag in items:
            yield incoming(raw), tag
        return
    context = multiprocessing.get_context("forkserver")
    in_flight: deque[tuple[Future, list[bytes], list[T]]] = deque()
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=worker_start, initargs=(os.getpid(),)
    ) as pool:
        for chunk in _chunks(items, CHUNK):
            raws = [raw for raw, _ in chunk]
            in_flight.append((pool.submit(_parse_chunk, raws), raws, [tag for _, tag in chunk]))
            if len(in_flight) >= workers * WINDOW_PER_WORKER:
                yield from _results(in_flight.popleft())
        while in_flight:
            yield from _results(in_flight.popleft())


def _results(done: tuple[Future, list[bytes], list[T]]) -> Iterator[tuple[Incoming, T]]:
    future, raws, tags = done
    # A chunk no worker has started yet (they are behind: busy cores) is parsed here
    # rather than waited for.
    parsed = _parse_chunk(raws) if future.cancel() else future.result()
    yield from zip(parsed, tags, strict=True)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
