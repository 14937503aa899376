"""One channel-layer subscription per process for all its live pages.

A broadcast to a group with a hundred open pages in a daphne process reaches
that process once, and is handed to each page's own queue here, instead of
travelling through the broker a hundred times and through Channels' per-message
dispatch a hundred times. With the in-memory layer the hub also follows the
Event log for other processes' changes (follow.py).

The hub also coalesces: a group's pages get its first change at once; what
arrives while they are still handling a batch, or within COALESCE_SECONDS of
it, waits and goes as the next batch, merged. So a burst reaches a page as a
few updates, and a busy process sends fewer, larger updates instead of falling
further behind (a batch its pages have not all finished after STUCK_SECONDS is
followed anyway).

A batch reaches the group's pages that follow it live in one pass (fanout.py:
one rendering and one encoding per kind of page and viewer, the same text to
every socket). A page still catching up (it joined, and is reading the log) is
handed the batch in its inbox instead, and sends it after its catch-up, in order.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from apps.live import fanout, follow

log = logging.getLogger(__name__)

# Redis forgets group members after a day (channels_redis group_expiry): say it again hourly.
REFRESH_SECONDS = 3600
# A group's pages get at most one batch this often; what comes meanwhile waits, merged.
COALESCE_SECONDS = 0.1
# The next batch goes after this long even if a page has not finished the last one.
STUCK_SECONDS = 1.0


def coalesce_seconds() -> float:
    return float(getattr(settings, "LIVE_COALESCE_SECONDS", COALESCE_SECONDS))


def stuck_seconds() -> float:
    return float(getattr(settings, "LIVE_STUCK_SECONDS", STUCK_SECONDS))


class Member(fanout.Follower, Protocol):
    inbox: asyncio.Queue
    # Caught up: batches go to it in the hub's pass, not through its inbox.
    live: bool


class Hub:
    """The groups this process's pages follow, and who follows each."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[Member]] = {}
        self.tasks: list[asyncio.Task] = []
        self.lock = asyncio.Lock()
        # Per group: the changes waiting for the next batch, when the last one left,
        # and the timer that sends the next.
        self.pending: dict[str, list[dict]] = {}
        self.sent_at: dict[str, float] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # Per group: the batch its pages are handling, and how many have not finished it.
        self.inflight: dict[str, str] = {}
        self.busy: dict[str, int] = {}
        # The passes under way (kept, or the loop could drop a running task).
        self.passes: set[asyncio.Task] = set()

    async def join(self, group: str, member: Member) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.tasks = [
                    asyncio.create_task(self._receive(), name="live-hub"),
                    asyncio.create_task(self._refresh(), name="live-hub-refresh"),
                ]
                if isinstance(self.layer, InMemoryChannelLayer):
                    # Read before the first page reads its catch-up: nothing falls between.
                    cursor = await follow.log_cursor()
                    self.tasks.append(
                        asyncio.create_task(follow.follow_log(self.layer, cursor), name="live-log")
                    )
            members = self.members.setdefault(group, set())
            if not members:
                await self.layer.group_add(group, self.channel)
            members.add(member)

    async def leave(self, group: str, member: Member) -> None:
        async with self.lock:
            members = self.members.get(group)
            if members is None or member not in members:
                return
            members.discard(member)
            if not members:
                del self.members[group]
                self.pending.pop(group, None)
                self.sent_at.pop(group, None)
                self.inflight.pop(group, None)
                self.busy.pop(group, None)
                timer = self.timers.pop(group, None)
                if timer is not None:
                    timer.cancel()
                await self.layer.group_discard(group, self.channel)
            if not self.members:
                await self._stop()

    async def _stop(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        self.timers, self.pending, self.sent_at = {}, {}, {}
        tasks, self.tasks, self.channel = [*self.tasks, *self.passes], [], None
        self.passes = set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker went away: pages repair what they miss by pinging
                log.warning("live hub: receive failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            self.arrived(message)

    def arrived(self, message: dict) -> None:
        """A group's message: its changes wait for the group's next batch."""
        group = message.get("group")
        if group not in self.members:
            return
        self.pending.setdefault(group, []).extend(message.get("refs") or ())
        self._schedule(group)

    def _schedule(self, group: str) -> None:
        """Send the group's waiting changes now if its pages are free and the last batch
        left coalesce_seconds() ago, else when that is so (or STUCK_SECONDS passed)."""
        if group in self.timers or not self.pending.get(group):
            return
        loop = asyncio.get_running_loop()
        since = loop.time() - self.sent_at.get(group, float("-inf"))
        wait = (stuck_seconds() if self.busy.get(group) else coalesce_seconds()) - since
        if wait <= 0:
            self.flush(group)
        else:
            self.timers[group] = loop.call_later(wait, self.flush, group)

    def flush(self, group: str) -> None:
        """Send the group's waiting changes to its pages, as one batch: in one pass to those
        following live, through their inbox to those still catching up."""
        self.timers.pop(group, None)
        refs = self.pending.pop(group, None)
        if not refs:
            return
        members = self.members.get(group, ())
        live = [member for member in members if member.live]
        waiting = [member for member in members if not member.live]
        self.sent_at[group] = asyncio.get_running_loop().time()
        nonce = uuid.uuid4().hex
        batch = {"type": "live.batch", "group": group, "refs": refs, "nonce": nonce}
        self.inflight[group], self.busy[group] = nonce, len(waiting) + bool(live)
        for member in waiting:
            member.inbox.put_nowait(batch)
        if live:
            task = asyncio.create_task(self._pass(batch, live), name=f"live-pass-{group}")
            self.passes.add(task)
            task.add_done_callback(self.passes.discard)

    async def _pass(self, batch: dict, members: list[Member]) -> None:
        try:
            await fanout.deliver(batch, members)
        except Exception:  # the next batch must not wait for STUCK_SECONDS
            log.exception("live hub: could not send a batch to %s", batch["group"])
        finally:
            self.done(batch)

    def done(self, batch: dict) -> None:
        """A page has handled (or dropped) a batch, or the pass has sent it: the last one
        frees its group."""
        group = batch.get("group")
        if group is None or self.inflight.get(group) != batch.get("nonce"):
            return
        self.busy[group] -= 1
        if self.busy[group] > 0:
            return
        del self.busy[group], self.inflight[group]
        timer = self.timers.pop(group, None)
        if timer is not None:
            timer.cancel()
        self._schedule(group)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for group in list(self.members):
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    log.warning("live hub: could not refresh %s", group, exc_info=True)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub (daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub(get_channel_layer())
    return _hubs[loop]
