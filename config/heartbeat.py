"""Heartbeats of celery workers and beat, kept in Redis so /healthz can tell they are alive.

Each process writes its own key on its own loop (a worker's timer, beat's tick),
with a time-to-live of HEARTBEAT_MAX_AGE_SECONDS: a process that hangs or dies
stops refreshing it and the key goes stale, then disappears; a clean stop
removes it at once. Without Redis (embedded default) there are no workers or
beat, and nothing is written.
"""

from __future__ import annotations

import logging
import time

import redis
from celery import bootsteps
from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "patchwork:heartbeat:"
BEAT_KEY = PREFIX + "beat"
WORKER_PREFIX = PREFIX + "worker:"

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url:
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


def heartbeat_write(key: str) -> None:
    """Record that the process owning key is alive now; never raises."""
    client = _client()
    if client is None:
        return
    try:
        client.set(key, f"{time.time():.3f}", ex=settings.HEARTBEAT_MAX_AGE_SECONDS)
    except redis.RedisError as exc:
        log.warning("heartbeat %s not written: %s", key, exc)


def heartbeat_clear(key: str) -> None:
    """Forget a heartbeat (the process stops cleanly); never raises."""
    client = _client()
    if client is None:
        return
    try:
        client.delete(key)
    except redis.RedisError as exc:
        log.warning("heartbeat %s not cleared: %s", key, exc)


def heartbeats_read() -> dict:
    """Ages in seconds of the beat heartbeat (None if absent) and of each worker's."""
    client = _client()
    if client is None:
        raise RuntimeError("no REDIS_URL: heartbeats are not kept")
    now = time.time()
    worker_keys = sorted(client.scan_iter(match=WORKER_PREFIX + "*", count=100))
    values = client.mget([BEAT_KEY, *worker_keys])

    def age(value: bytes | str | None) -> float | None:
        return None if value is None else round(max(now - float(value), 0.0), 1)

    workers = {
        key.decode()[len(WORKER_PREFIX) :]: age(value)
        for key, value in zip(worker_keys, values[1:], strict=True)
        if value is not None
    }
    return {"beat": age(values[0]), "workers": workers}


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A worker bootstep: refresh this worker's heartbeat on the worker's own timer."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.key = ""

    def start(self, worker) -> None:
        self.key = WORKER_PREFIX + worker.hostname
        heartbeat_write(self.key)
        self.tref = worker.timer.call_repeatedly(
            settings.HEARTBEAT_INTERVAL_SECONDS, heartbeat_write, (self.key,)
        )

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.key:
            heartbeat_clear(self.key)


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler, refreshing the beat heartbeat as it ticks."""

    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= settings.HEARTBEAT_INTERVAL_SECONDS:
            heartbeat_write(BEAT_KEY)
            self._last_heartbeat = now
        # Sleep no longer than the heartbeat interval, whatever the schedule says.
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_INTERVAL_SECONDS)

    def close(self) -> None:
        super().close()
        heartbeat_clear(BEAT_KEY)


def install(app) -> None:
    """Add the worker heartbeat to a celery app."""
    app.steps["worker"].add(WorkerHeartbeat)
