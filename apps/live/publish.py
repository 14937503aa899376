"""Publishing committed changes to open pages (Channels groups).

Every event goes to its project's group (patch lists), to the group of each
patch whose page shows it (the patch itself, and the members of the relations
it left or joined) and to its series' group (series pages, series navigation
on patch pages). The message carries ids only: each consumer renders what its
viewer may see.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from apps.events.models import Event
from apps.patches.models import Cover, Patch
from apps.series.models import Series

log = logging.getLogger(__name__)

# Category of the notification for patch changes that are not Patchwork events
# (archived, commit ref, pull URL): live pages show them, the Event log does not
# record them.
PATCH_UPDATED = "patch-updated"


def project_group(project_id: int) -> str:
    return f"project-{project_id}"


def patch_group(patch_id: int) -> str:
    return f"patch-{patch_id}"


def series_group(series_id: int) -> str:
    return f"series-{series_id}"


def events_publish_on_commit(events: list[Event]) -> None:
    """Listener of apps.events (registered by LiveConfig.ready): broadcast these events once
    their transaction has committed (one after-commit call for them all)."""
    broadcasts = [_event_broadcast_args(event) for event in events]
    transaction.on_commit(lambda: events_broadcast(broadcasts))


def _event_broadcast_args(event: Event) -> dict:
    """What event_broadcast needs of an event, read now (after commit, event_groups would
    have to look the series up)."""
    series_id = event.series_id
    if series_id is None and event.patch_id and Event.patch.is_cached(event) and event.patch:
        series_id = event.patch.series_id
    if series_id is None and event.cover_id and Event.cover.is_cached(event) and event.cover:
        if Cover.series.is_cached(event.cover):
            series_id = getattr(event.cover.series, "pk", None)
    return {
        "event_id": event.id,
        "project_id": event.project_id,
        "category": event.category,
        "patch_id": event.patch_id,
        "series_id": series_id,
        "cover_id": event.cover_id,
        "relation_ids": [r for r in (event.previous_relation_id, event.current_relation_id) if r],
    }


def patch_updated_publish_on_commit(*, patch_id: int, project_id: int, series_id: int | None):
    """Schedule a live refresh of a patch whose non-event fields changed (archived, commit ref)."""
    transaction.on_commit(
        lambda: event_broadcast(
            None, project_id, PATCH_UPDATED, patch_id=patch_id, series_id=series_id
        )
    )


def event_groups(
    project_id: int,
    *,
    patch_id: int | None = None,
    series_id: int | None = None,
    cover_id: int | None = None,
    relation_ids: Iterable[int] = (),
) -> list[str]:
    """The groups whose pages show this change (reads the relations' current members)."""
    groups = [project_group(project_id)]
    patch_ids = {patch_id} if patch_id else set()
    relation_ids = list(relation_ids)
    if relation_ids:
        patch_ids.update(
            Patch.objects.filter(related_id__in=relation_ids).values_list("id", flat=True)
        )
    groups += [patch_group(pk) for pk in sorted(patch_ids)]
    if series_id is None and patch_id is not None:
        series_id = Patch.objects.filter(pk=patch_id).values_list("series_id", flat=True).first()
    if series_id is None and cover_id is not None:
        series_id = Series.objects.filter(cover_id=cover_id).values_list("id", flat=True).first()
    if series_id is not None:
        groups.append(series_group(series_id))
    return groups


def event_broadcast(
    event_id: int | None,
    project_id: int,
    category: str,
    *,
    patch_id: int | None = None,
    series_id: int | None = None,
    cover_id: int | None = None,
    relation_ids: Iterable[int] = (),
) -> None:
    """Tell every page watching this change that it exists; pages render what they show."""
    events_broadcast(
        [
            {
                "event_id": event_id,
                "project_id": project_id,
                "category": category,
                "patch_id": patch_id,
                "series_id": series_id,
                "cover_id": cover_id,
                "relation_ids": relation_ids,
            }
        ]
    )


def events_broadcast(broadcasts: list[dict]) -> None:
    """Broadcast committed changes (keyword arguments of event_broadcast), in order.

    Nothing is done where no page can listen: an in-memory layer with no page open in
    this process (a worker, parsemail, parsearchive without Redis) — a page opened later
    reads these events in its catch-up. Through Redis the messages are handed to this
    process's publisher and the caller does not wait for the broker.
    """
    layer = get_channel_layer()
    if layer is None or not broadcasts:
        return
    in_memory = isinstance(layer, InMemoryChannelLayer)
    if in_memory and not layer_has_listeners(layer):
        return
    sends: list[tuple[list[str], dict]] = []
    for b in broadcasts:
        if b["event_id"] is not None:
            _published_here(b["event_id"])
        message = _message(
            b["event_id"],
            b["project_id"],
            b["category"],
            patch_id=b["patch_id"],
            series_id=b["series_id"],
        )
        try:
            groups = event_groups(
                b["project_id"],
                patch_id=b["patch_id"],
                series_id=b["series_id"],
                cover_id=b["cover_id"],
                relation_ids=b["relation_ids"],
            )
        except Exception:  # a broken connection must not undo the committed change
            log.warning("could not broadcast event %s", b["event_id"], exc_info=True)
            continue
        sends.append((groups, message))
    if in_memory:
        _deliver_here(layer, sends)
    else:
        _publisher().put(layer, sends)


def layer_has_listeners(layer) -> bool:
    """Whether a page of this process follows any group of an in-memory layer."""
    return bool(getattr(layer, "groups", None))


async def event_broadcast_logged(layer, row: dict) -> None:
    """Broadcast an event read back from the log (a row of selectors.events_after).

    For a process whose layer does not carry other processes' broadcasts
    (live/follow.py); events this process broadcast itself are skipped.
    """
    if row["id"] in _recent_ids:
        return
    refs = {
        "patch_id": row["patch_id"],
        "series_id": row["series_id"],
        "cover_id": row["cover_id"],
        "relation_ids": [r for r in (row["previous_relation_id"], row["current_relation_id"]) if r],
    }
    groups = await database_sync_to_async(event_groups)(row["project_id"], **refs)
    message = _message(
        row["id"],
        row["project_id"],
        row["category"],
        patch_id=row["patch_id"],
        series_id=row["series_id"],
    )
    await _send_all(layer, groups, message)


def _message(event_id, project_id, category, *, patch_id, series_id) -> dict:
    return {
        "type": "event.created",
        "event_id": event_id,
        "category": category,
        "project_id": project_id,
        "patch_id": patch_id,
        "series_id": series_id,
        # Lets every consumer in a process share one rendering of this broadcast.
        "nonce": uuid.uuid4().hex,
    }


# The ids of the latest events this process broadcast (or tried to) after their commit.
RECENT_IDS = 10_000
_recent_ids: set[int] = set()
_recent_order: deque[int] = deque()
_recent_lock = threading.Lock()


def _published_here(event_id: int) -> None:
    with _recent_lock:
        _recent_ids.add(event_id)
        _recent_order.append(event_id)
        if len(_recent_order) > RECENT_IDS:
            _recent_ids.discard(_recent_order.popleft())


# How long a process that exits waits for its last broadcasts to reach the broker.
PUBLISH_TIMEOUT = 5
# Broadcasts waiting for a broker that is down; beyond this the oldest are dropped (pages
# repair what they missed at their next ping).
PUBLISH_BACKLOG = 10_000


class Publisher:
    """This process's event loop for broadcasts through a broker (Redis), in its own thread.

    The layer keeps its broker connections between commits (async_to_sync would make a
    new loop, hence new connections, for every commit), one task sends the broadcasts in
    the order they were committed, and nobody waits for it: a worker goes on with its
    next mail while the broker answers.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.pending: deque = deque()
        self.lock = threading.Lock()
        self.wake = asyncio.Event()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._run, name="live-publisher", daemon=True).start()

    def put(self, layer, sends: list[tuple[list[str], dict]]) -> None:
        with self.lock:
            self.pending.append((layer, sends))
            if len(self.pending) > PUBLISH_BACKLOG:
                self.pending.popleft()
                log.warning("live: broadcasts dropped, the broker is not keeping up")
            self.idle.clear()
        self.loop.call_soon_threadsafe(self.wake.set)

    def flush(self, timeout: float = PUBLISH_TIMEOUT) -> bool:
        """Wait until every broadcast handed over so far was sent (or failed)."""
        return self.idle.wait(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while True:
                with self.lock:
                    if not self.pending:
                        self.idle.set()
                        break
                    layer, sends = self.pending.popleft()
                for groups, message in sends:
                    try:
                        await _send_all(layer, groups, message)
                    except Exception:  # a broker that is down delays live updates only
                        log.warning(
                            "could not broadcast event %s (%s)",
                            message["event_id"],
                            message["category"],
                            exc_info=True,
                        )


_publisher_instance: Publisher | None = None
_publisher_lock = threading.Lock()


def _publisher() -> Publisher:
    global _publisher_instance
    with _publisher_lock:
        if _publisher_instance is None or _publisher_instance.pid != os.getpid():  # or forked
            _publisher_instance = Publisher()
            atexit.register(_publisher_instance.flush)
        return _publisher_instance


def publish_flush(timeout: float = PUBLISH_TIMEOUT) -> bool:
    """Wait until this process's broadcasts so far reached the broker; True if they did."""
    publisher = _publisher_instance
    if publisher is None or publisher.pid != os.getpid():
        return True
    return publisher.flush(timeout)


def _deliver_here(layer, sends: list[tuple[list[str], dict]]) -> None:
    """Through an in-memory layer: its queues belong to the consumers' event loop (this
    process), so the broadcast is sent from there."""

    async def send() -> None:
        for groups, message in sends:
            await _send_all(layer, groups, message)

    try:
        async_to_sync(send)()
    except Exception:
        log.warning("could not broadcast %d events", len(sends), exc_info=True)


async def _send_all(layer, groups: list[str], message: dict) -> None:
    for group in groups:
        # Each process receives a group's message once and hands it to its pages (hub.py).
        await layer.group_send(group, {**message, "group": group})
