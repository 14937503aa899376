"""Publishing committed changes to open pages (Channels groups).

Every event goes to its project's group (patch lists), to the group of each
patch whose page shows it (the patch itself, and the members of the relations
it left or joined) and to its series' group (series pages, series navigation
on patch pages). The message carries ids only: each process renders what its
viewers may see, once per kind of viewer (render.py, consumers.py).

Changes committed close together leave together: the publisher's outbox sends
what it holds as one message per group (a bulk change of a hundred patches is a
few messages), and each process's hub coalesces further (hub.py).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
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
    their transaction has committed, together (a batch of events is one outbox entry)."""
    changes = [_change(event) for event in events]
    transaction.on_commit(lambda: changes_broadcast(changes))


def _change(event: Event) -> dict:
    """What the broadcast of an event needs, read before commit (its relations are cached
    then; else event_groups looks the series up after commit)."""
    series_id, series_known = event.series_id, event.series_id is not None
    if series_id is None and event.patch_id and Event.patch.is_cached(event) and event.patch:
        series_id, series_known = event.patch.series_id, True
    if series_id is None and event.cover_id and Event.cover.is_cached(event) and event.cover:
        if Cover.series.is_cached(event.cover):
            series_id, series_known = getattr(event.cover.series, "pk", None), True
    return {
        "event_id": event.id,
        "project_id": event.project_id,
        "category": event.category,
        "patch_id": event.patch_id,
        "series_id": series_id,
        "series_known": series_known,
        "cover_id": event.cover_id,
        "relation_ids": [r for r in (event.previous_relation_id, event.current_relation_id) if r],
    }


def patch_updated_publish_on_commit(*, patch_id: int, project_id: int, series_id: int | None):
    """Schedule a live refresh of a patch whose non-event fields changed (archived, commit ref)."""
    change: dict = {
        "event_id": None,
        "project_id": project_id,
        "category": PATCH_UPDATED,
        "patch_id": patch_id,
        "series_id": series_id,
        "series_known": True,
        "cover_id": None,
        "relation_ids": [],
    }
    transaction.on_commit(lambda: changes_broadcast([change]))


def event_groups(
    project_id: int,
    *,
    patch_id: int | None = None,
    series_id: int | None = None,
    series_known: bool = False,
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
    if series_known:
        pass
    elif series_id is None and patch_id is not None:
        series_id = Patch.objects.filter(pk=patch_id).values_list("series_id", flat=True).first()
    elif series_id is None and cover_id is not None:
        series_id = Series.objects.filter(cover_id=cover_id).values_list("id", flat=True).first()
    if series_id is not None:
        groups.append(series_group(series_id))
    return groups


def changes_broadcast(changes: list[dict]) -> None:
    """Broadcast committed changes (shaped as _change makes them).

    They join this process's outbox; the publisher sends what the outbox holds as one
    message per group, so the hundred changes of a bulk action travel as a few
    messages, not a hundred.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer) and not layer_has_listeners(layer):
        # A worker, parsemail or parsearchive without Redis: no page can join this
        # process's layer; a page opened later reads these events in its catch-up.
        return
    try:
        batch = []
        for change in changes:
            if change["event_id"] is not None:
                _published_here(change["event_id"])
            groups = event_groups(
                change["project_id"],
                patch_id=change["patch_id"],
                series_id=change["series_id"],
                series_known=change.get("series_known", False),
                cover_id=change["cover_id"],
                relation_ids=change["relation_ids"],
            )
            ref = _ref(
                change["event_id"],
                change["project_id"],
                change["category"],
                patch_id=change["patch_id"],
                series_id=change["series_id"],
            )
            batch.append((groups, ref))
        _deliver(layer, batch)
    except Exception:  # a broker that is down delays live updates, never the change itself
        log.warning("could not broadcast %d change(s)", len(changes), exc_info=True)


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
    ref = _ref(
        row["id"],
        row["project_id"],
        row["category"],
        patch_id=row["patch_id"],
        series_id=row["series_id"],
    )
    await _send_batches(layer, [(groups, ref)])


def _ref(event_id, project_id, category, *, patch_id, series_id) -> dict:
    """What a page needs to know of a change (the keys of catchup.event_ref)."""
    return {
        "event_id": event_id,
        "category": category,
        "project_id": project_id,
        "patch_id": patch_id,
        "series_id": series_id,
        # Tells the copies of one change apart from other changes (a page in two of
        # its groups hears it twice; a change without an event has no id).
        "uid": uuid.uuid4().hex,
    }


def batch_message(refs: list[dict], group: str) -> dict:
    """The one message a group gets for the changes the publisher had in hand."""
    return {"type": "live.batch", "group": group, "refs": refs, "nonce": uuid.uuid4().hex}


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


# Group messages in flight at once from the publisher.
SEND_CONCURRENCY = 16
# How long a process that is exiting waits for its outbox to reach the broker.
PUBLISH_TIMEOUT = 5
_publisher: tuple[int, asyncio.AbstractEventLoop] | None = None
_publisher_lock = threading.Lock()
# Changes committed in this process and not yet sent: (their groups, their ref).
_outbox: deque[tuple[list[str], dict]] = deque()
_draining = threading.Event()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """This process's event loop for broadcasts, so the layer keeps its broker connections.

    (async_to_sync would make a new loop, hence new connections, for every commit.)
    """
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher[0] != os.getpid():  # none yet, or forked
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-publisher", daemon=True).start()
            _publisher = (os.getpid(), loop)
            _outbox.clear()
            _draining.clear()
            atexit.register(_flush_at_exit)
        return _publisher[1]


def _deliver(layer, batch: list[tuple[list[str], dict]]) -> None:
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the consumers' event loop (one process): send from there.
        async_to_sync(_send_batches)(layer, batch)
        return
    loop = _publisher_loop()
    _outbox.extend(batch)
    # The commit does not wait for the broker: the changes of one transaction (its
    # on_commit callbacks, back to back) gather in the outbox while the publisher
    # sends what came before them, and leave together.
    if not _draining.is_set():
        _draining.set()
        loop.call_soon_threadsafe(lambda: loop.create_task(_drain(layer)))


async def _drain(layer) -> None:
    """Send the outbox until it is empty: one message per group for all it holds."""
    try:
        while _outbox:
            batch = []
            while _outbox:
                batch.append(_outbox.popleft())
            try:
                await _send_batches(layer, batch)
            except Exception:  # the broker is down: pages repair what they miss by pinging
                log.warning("could not broadcast %d change(s)", len(batch), exc_info=True)
    finally:
        _draining.clear()
    if _outbox:  # appended after the loop's last look, before the flag was cleared
        _draining.set()
        await _drain(layer)


def layer_has_listeners(layer) -> bool:
    """Whether a page of this process follows any group of an in-memory layer."""
    return bool(getattr(layer, "groups", None))


def publish_flush(timeout: float = PUBLISH_TIMEOUT) -> bool:
    """Wait until this process's outbox has reached the broker; True if it did in time."""
    deadline = time.monotonic() + timeout
    while _outbox or _draining.is_set():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _flush_at_exit() -> None:
    """A command or worker that exits right after its commit still broadcasts it."""
    publish_flush()


async def _send_batches(layer, batch: list[tuple[list[str], dict]]) -> None:
    """One message per group, with every change of the batch its pages show, in order."""
    by_group: dict[str, list[dict]] = {}
    for groups, ref in batch:
        for group in groups:
            by_group.setdefault(group, []).append(ref)
    # Each process receives a group's message once and hands it to its pages (hub.py).
    # Sent side by side (a bulk change touches a hundred patch pages' groups), the
    # project's and series' groups first, a few at a time.
    order = sorted(by_group, key=lambda group: group.startswith("patch-"))
    for start in range(0, len(order), SEND_CONCURRENCY):
        await asyncio.gather(
            *(
                layer.group_send(group, batch_message(by_group[group], group))
                for group in order[start : start + SEND_CONCURRENCY]
            )
        )
