"""One channel-layer subscription per process for all its live pages.

A broadcast to a group with a hundred open pages in a daphne process reaches
that process once, and is handed to each page's own queue here, instead of
travelling through the broker a hundred times and through Channels' per-message
dispatch a hundred times. Each page still renders (through the shared cache in
render.py) and sends on its own, in order. With the in-memory layer the hub also
follows the Event log for other processes' changes (follow.py).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer

from apps.live import follow

log = logging.getLogger(__name__)

# Redis forgets group members after a day (channels_redis group_expiry): say it again hourly.
REFRESH_SECONDS = 3600


class Member(Protocol):
    inbox: asyncio.Queue


class Hub:
    """The groups this process's pages follow, and who follows each."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[Member]] = {}
        self.tasks: list[asyncio.Task] = []
        self.lock = asyncio.Lock()

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
                await self.layer.group_discard(group, self.channel)
            if not self.members:
                await self._stop()

    async def _stop(self) -> None:
        tasks, self.tasks, self.channel = self.tasks, [], None
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
            for member in list(self.members.get(message.get("group"), ())):
                member.inbox.put_nowait(message)

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
