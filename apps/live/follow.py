"""Other processes' events, for a web process whose channel layer lives in its memory.

With Redis, a change committed in any process is broadcast to every web process.
The in-memory layer of the embedded default (`./dev serve`) carries only this
process's own broadcasts: a mail piped through `manage.py parsemail` commits in
another process, and open pages would see it only at their next heartbeat's
catch-up (25 s). So while this process has live pages open, it follows the
Event log by id and broadcasts what others committed through the same path as
its own changes (publish.event_broadcast_logged). One indexed read of the log's
tail per poll, and none while no page is open.

On SQLite (the embedded database) writers take turns, so events commit in id
order and following by id misses none; a change that records no event (archived,
commit ref) made by another process waits for the next full page load.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from apps.events.selectors import event_latest_id, events_after
from apps.live.publish import event_broadcast_logged

log = logging.getLogger(__name__)

# About a second at worst from another process's commit to the open page.
POLL_SECONDS = 0.5
BATCH = 200


def poll_seconds() -> float:
    return float(getattr(settings, "LIVE_FOLLOW_LOG_SECONDS", POLL_SECONDS))


async def log_cursor() -> int:
    """Where following starts: the log's end now (pages catch up to it themselves)."""
    return await database_sync_to_async(event_latest_id)()


async def follow_log(layer, cursor: int) -> None:
    """Broadcast every event committed after `cursor`, in order, until cancelled."""
    while True:
        await asyncio.sleep(poll_seconds())
        try:
            rows = await database_sync_to_async(events_after)(cursor, limit=BATCH)
            for row in rows:
                await event_broadcast_logged(layer, row)
                cursor = row["id"]
        except asyncio.CancelledError:
            raise
        except Exception:  # a locked or restarting database: try again at the next poll
            log.warning("live: could not follow the event log past %s", cursor, exc_info=True)
