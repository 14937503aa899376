"""The websocket behind every live page: resume from the page's cursor, then stream.

Protocol (JSON text frames):

client → server
  {"type": "resume", "last": <event id>, "patches": [<patch id>, …]}
      sent on every (re)connect: ``last`` is the id of the last event the page
      applied (rendered into the page at first); ``patches`` (on a reconnect
      only) the rows it shows, re-rendered in case broadcasts were lost
      (patch ids; series ids on the series list). Without ``patches`` only
      what the events after ``last`` changed is sent: a page just loaded has
      nothing else to update, and swapping its rows would undo its clicks.
  {"type": "ping", "last": <event id>}   heartbeat; also repairs lost broadcasts

server → client
  {"type": "events", "events": [ids], "cursor": id, "replay": bool, "ops": [...]}
      the fragments that these events changed, rendered for this viewer
  {"type": "reload", "cursor": id, "regions": [dom ids]}
      too much was missed: fetch the page again and swap these regions
  {"type": "pong"} / {"type": "error", "error": "..."}

Closing code 4404: the page does not exist or is not this viewer's to see (the
client does not retry). Malformed messages get an error and change nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.live import catchup, fanout, pages, render
from apps.live.hub import hub

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
# How many sent event ids a connection remembers to avoid sending one twice.
SENT_MEMORY = 2000
# A ping re-reads the log (to repair lost broadcasts) at most this often.
PING_CHECK_SECONDS = 5


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One open live page: its groups, its viewer, what it has been sent."""

    page: pages.LivePage | None = None

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.viewer = render.viewer_from_scope(self.scope)
        self.page, self.viewer_kind, self.csrf_token = await database_sync_to_async(_open)(
            kind=kwargs["kind"],
            object_id=int(kwargs["object_id"]),
            query_string=self.scope.get("query_string", b"").decode("latin1"),
            viewer=self.viewer,
        )
        self.joined: list[str] = []
        # Broadcasts the hub handed over while this page caught up; once it has sent
        # them it is live, and the hub sends it the next ones itself (fanout.py).
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.live = False
        self.sent: set[int] = set()
        self.sent_order: deque[int] = deque()
        # The latest changes without an event id handled (a page in two groups hears
        # them twice).
        self.uids: set[str] = set()
        self.uid_order: deque[str] = deque()
        self.cursor = 0  # the highest event id this page has been sent
        self.verified = 0  # every event in scope up to here was sent (as far as the log knew)
        self.resumed = False
        self.checked_at = 0.0
        # Accept, then close with a code of ours, so the page knows not to retry.
        await self.accept()
        if self.page is None:
            await self.close(code=CLOSE_NOT_FOUND)

    async def dispatch(self, message: dict) -> None:
        # Channels hops to the database thread before every message to close stale
        # connections. This consumer reaches the database only through
        # database_sync_to_async, which does that itself: skipping the hop keeps a
        # broadcast to a hundred open pages from queueing a hundred of them.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await hub().leave(group, self)
        inbox = getattr(self, "inbox", None)
        while inbox is not None and not inbox.empty():  # free the groups for the others
            hub().done(inbox.get_nowait())

    async def drain(self) -> None:
        """Send the broadcasts that came while the page caught up, in the order they came;
        then the page is live (the hub sends it the next ones in its pass)."""
        while not self.inbox.empty():
            batch = self.inbox.get_nowait()
            try:
                await fanout.deliver(batch, [self])
            finally:
                hub().done(batch)
        self.live = True

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.send_json({"type": "error", "error": "messages must be JSON objects"})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "error": "messages must be JSON objects"})
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs) -> None:
        if self.page is None:
            return
        kind = content.get("type")
        last = content.get("last", 0)
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            await self.send_json({"type": "error", "error": "'last' must be an event id (>= 0)"})
            return
        if kind == "resume":
            patches = content.get("patches")
            if patches is not None and not (
                isinstance(patches, list)
                and all(isinstance(p, int) and not isinstance(p, bool) for p in patches)
            ):
                await self.send_json({"type": "error", "error": "'patches' must be a list of ids"})
                return
            if self.resumed:
                await self.send_json({"type": "error", "error": "already resumed"})
                return
            await self.resume(last, None if patches is None else patches[: pages.MAX_REFRESH_ROWS])
        elif kind == "ping":
            await self.send_json({"type": "pong"})
            # The log is read at most every PING_CHECK_SECONDS, however often a page pings.
            now = time.monotonic()
            if self.resumed and now - self.checked_at >= PING_CHECK_SECONDS:
                self.checked_at = now
                await self.catch_up(last, patches=None, resume=False)
        else:
            await self.send_json({"type": "error", "error": f"unknown message type {kind!r}"})

    async def resume(self, last: int, patches: list[int] | None) -> None:
        # Join first, then read the log: whatever commits in between arrives
        # twice at worst, and event_created drops the second copy.
        assert self.page is not None  # receive_json answers nothing on a page not found
        for group in self.page.groups:
            await hub().join(group, self)
            self.joined.append(group)
        self.resumed = True
        self.checked_at = time.monotonic()
        await self.catch_up(last, patches=patches, resume=True)
        # Broadcasts that came meanwhile waited in the inbox: they follow the catch-up.
        await self.drain()

    async def catch_up(self, last: int, *, patches: list[int] | None, resume: bool) -> None:
        """Send what the log holds past `last` (and past what this connection verified)."""
        assert self.page is not None  # receive_json answers nothing on a page not found
        since = last if resume else max(last, self.verified)
        result = await database_sync_to_async(catchup.events_missed)(self.page, since)
        self.verified = max(self.verified, result.cursor)
        if result.too_many:
            self.cursor = max(self.cursor, result.cursor)
            await self.send_json(
                {"type": "reload", "cursor": self.cursor, "regions": self.page.regions}
            )
            return
        refs = [ref for ref in result.events if ref["event_id"] not in self.sent]
        if not refs and not resume:
            return
        ops = await database_sync_to_async(render.ops_for_batch)(
            self.page, self.viewer, refs, refresh_patches=patches
        )
        ids = [ref["event_id"] for ref in refs]
        self.remember(ids)
        self.cursor = max([self.cursor, last, *ids])
        text = fanout.events_text(
            ids, self.cursor, json.dumps(ops), replay=True, csrf_token=self.csrf_token
        )
        await self.send(text_data=text)

    def batch_refs(self, batch: dict) -> list[dict]:
        """The changes of a broadcast that are news to this page and shown on it."""
        if self.page is None or not self.resumed:
            return []
        return [ref for ref in batch["refs"] if self.fresh(ref) and self.page.wants(ref)]

    def batch_sent(self, ids: list[int]) -> int:
        """Note these events as sent to this page; its cursor after them."""
        self.remember(ids)
        self.cursor = max([self.cursor, *ids])
        return self.cursor

    def fresh(self, ref: dict) -> bool:
        """Whether this change is news to this page (not sent, nor heard through another
        of its groups); noted as heard."""
        event_id = ref.get("event_id")
        if event_id is not None:
            return event_id not in self.sent
        uid = str(ref.get("uid"))
        if uid in self.uids:
            return False
        self.uids.add(uid)
        self.uid_order.append(uid)
        if len(self.uid_order) > SENT_MEMORY:
            self.uids.discard(self.uid_order.popleft())
        return True

    def remember(self, ids: list[int]) -> None:
        for event_id in ids:
            if event_id in self.sent:
                continue
            self.sent.add(event_id)
            self.sent_order.append(event_id)
            if len(self.sent_order) > SENT_MEMORY:
                self.sent.discard(self.sent_order.popleft())


def _open(*, kind: str, object_id: int, query_string: str, viewer: render.Viewer):
    """The page, the viewer's kind on it and their CSRF token (one database trip)."""
    page = pages.live_page_open(
        kind=kind, object_id=object_id, query_string=query_string, user=viewer.user
    )
    if page is None:
        return None, None, ""
    return page, pages.live_page_viewer_kind(page, viewer.user), render.viewer_csrf_token(viewer)
