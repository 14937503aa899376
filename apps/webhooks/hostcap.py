"""The cap on deliveries in flight to one receiver host (WEBHOOK_HOST_CONCURRENCY).

A delivery takes one of its host's slots before it is claimed. When every slot is
taken the delivery does not wait in a worker thread (a hanging receiver would soon
hold them all): it joins its host's waiting line and its task ends. The slot is
not given back between deliveries while anyone waits: when its delivery ends, the
sender holding it takes the next delivery in its host's line itself and sends it
on the same slot (slots_pass), and gives the slot back only when the line is
empty. So a burst to one host is sent N at a time, in order, by the N senders that
hold its slots — no task is queued for a waiting delivery — and never holds more
than N threads. (Queuing each waiting delivery again as a task of its own cost the
worker 7.9 ms of CPU a delivery, against about 2 ms for one taken by a sender:
docs/benchmarks.md, issue 21, "Third pass".)

With Redis (the real topology) the slots and lines live there and every webhooks
worker process shares them: the cap is per host for the whole site. A slot is a
member of a sorted set scored by its lease's end, renewed each time it takes the
next delivery, so the slot of a worker killed mid-request frees itself; taking a
slot or joining the line is one atomic script, and so is taking the next in line
or giving the slot back, so no delivery can join a line just after its last slot
was given back and be forgotten there. Without Redis (embedded: tasks run eagerly
in the process that raised the event) the same bookkeeping is kept in the process.

Should Redis fail, deliveries go out uncapped: sending matters more than the cap.
A delivery taken from a line is claimed like any other (claim-once), so one that
waits in line twice, or was sent meanwhile, is sent once. A delivery left in a line
when the workers holding its host's slots die is still pending in the outbox, and
the periodic sweep queues it again (deliveries_requeue).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.commands.core import Script

log = logging.getLogger(__name__)

PREFIX = "patchwork:webhooks:host:"
LINE_TTL = 86400  # a line nobody touched for a day is dropped (the sweep re-queues its deliveries)

# KEYS: slots, line. ARGV: token, limit, lease seconds, delivery id, line TTL.
# 1: a slot is ours; 0: every slot is busy and the delivery joined the line.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 1)
  return 1
end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return 0
"""

# KEYS: slots, line. ARGV: token, lease seconds. The next delivery in line, the slot kept
# for it (its lease renewed); or, the line empty, the slot given back (false). A slot whose
# lease ended is not ours any more: it may have been counted free and taken.
_PASS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ends = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not ends or tonumber(ends) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return false
end
local next_id = redis.call('LPOP', KEYS[2])
if not next_id then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return false
end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 1)
return next_id
"""

# KEYS: slots. ARGV: token. The slot given back, whoever waits (an error cut its sender short).
_GIVE_BACK = """
redis.call('ZREM', KEYS[1], ARGV[1])
return false
"""


def host_of(url: str) -> str:
    """The receiver host a URL names, as the cap counts it (lower case, no trailing dot)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host.rstrip(".").lower()


def lease_seconds() -> float:
    """How long a slot is held at most: as long as the sweep's lease on a running delivery."""
    return settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 60


@dataclass
class Slot:
    """A slot taken on a host (token identifies it when it is given back)."""

    host: str
    token: str


@dataclass
class _Local:
    """The in-process bookkeeping (no Redis): slots by token with their lease's end."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: dict[str, dict[str, float]] = field(default_factory=dict)
    lines: dict[str, deque[int]] = field(default_factory=dict)


_local = _Local()
_clients: dict[str, redis.Redis] = {}
_scripts: dict[str, Script] = {}


def _client() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url:
        return None
    if url not in _clients:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        _clients[url] = client
        _scripts[url + "take"] = client.register_script(_TAKE)
        _scripts[url + "pass"] = client.register_script(_PASS)
        _scripts[url + "give"] = client.register_script(_GIVE_BACK)
    return _clients[url]


def _script(name: str) -> Script:
    """A script registered by _client(); call it only after _client() returned a client."""
    url = settings.REDIS_URL
    assert url, "no REDIS_URL: _client() returned None"
    return _scripts[url + name]


def _keys(host: str) -> list[str]:
    return [f"{PREFIX}{host}:slots", f"{PREFIX}{host}:line"]


def slot_take(host: str, delivery_id: int) -> Slot | None:
    """Take a slot on host for this delivery; None: every slot is busy, it waits in line."""
    return slots_take([(host, delivery_id)])[0]


def slots_take(wanted: list[tuple[str, int]]) -> list[Slot | None]:
    """slot_take for many (host, delivery id) pairs, in order, in one round trip to Redis
    (an event's fan-out asks for a hundred hosts' slots at once)."""
    limit = settings.WEBHOOK_HOST_CONCURRENCY
    tokens = [uuid.uuid4().hex for _ in wanted]
    client = _client()
    if client is None:
        return [
            Slot(host, token) if _local_take(host, token, delivery_id, limit) else None
            for (host, delivery_id), token in zip(wanted, tokens, strict=True)
        ]
    try:
        script = _script("take")
        pipe = client.pipeline(transaction=False)
        for (host, delivery_id), token in zip(wanted, tokens, strict=True):
            args: list[str | int | float] = [token, limit, lease_seconds(), delivery_id, LINE_TTL]
            script(keys=_keys(host), args=args, client=pipe)
        taken = pipe.execute()
    except redis.RedisError:
        log.warning("host cap unavailable; delivering %d uncapped", len(wanted), exc_info=True)
        return [Slot(host, "") for host, _ in wanted]
    return [
        Slot(host, token) if took else None
        for (host, _), token, took in zip(wanted, tokens, taken, strict=True)
    ]


def slot_pass(slot: Slot) -> int | None:
    """The next delivery waiting in the slot's host's line, to send on this slot (kept for
    it); None when nobody waits: the slot is given back."""
    return slots_pass([slot])[0]


def slots_pass(slots: list[Slot]) -> list[int | None]:
    """slot_pass for many slots, in order, in one round trip to Redis (the POSTs of a
    fan-out that ended together)."""
    return _each_slot(slots, "pass", _local_pass)


def slots_give_back(slots: list[Slot]) -> None:
    """Give slots back without taking anyone from their lines (a sender cut short by an
    error: a line it leaves waits for the next sender to the host, or the sweep)."""
    _each_slot(slots, "give", _local_give_back)


def _each_slot(
    slots: list[Slot], name: str, local: Callable[[Slot], int | None]
) -> list[int | None]:
    """Run a script (or its in-process twin) on each capped slot; the delivery ids it gives."""
    results: list[int | None] = [None] * len(slots)
    mine = [(n, slot) for n, slot in enumerate(slots) if slot.token]  # "": uncapped
    if not mine:
        return results
    client = _client()
    if client is None:
        for n, slot in mine:
            results[n] = local(slot)
        return results
    try:
        script = _script(name)
        pipe = client.pipeline(transaction=False)
        for _, slot in mine:
            script(keys=_keys(slot.host), args=[slot.token, lease_seconds()], client=pipe)
        replies = pipe.execute()
    except redis.RedisError:
        log.warning("host cap unavailable; %d slots expire by themselves", len(mine), exc_info=True)
        return results
    for (n, _), reply in zip(mine, replies, strict=True):
        results[n] = int(reply) if reply else None
    return results


def _local_take(host: str, token: str, delivery_id: int, limit: int) -> bool:
    now = time.monotonic()
    with _local.lock:
        slots = _local.slots.setdefault(host, {})
        for key in [k for k, end in slots.items() if end <= now]:
            del slots[key]
        if len(slots) < limit:
            slots[token] = now + lease_seconds()
            return True
        _local.lines.setdefault(host, deque()).append(delivery_id)
        return False


def _local_pass(slot: Slot) -> int | None:
    with _local.lock:
        slots = _local.slots.get(slot.host, {})
        if slots.get(slot.token, 0) <= time.monotonic():  # given back, or its lease ended
            slots.pop(slot.token, None)
            return None
        line = _local.lines.get(slot.host)
        if not line:
            del slots[slot.token]
            return None
        slots[slot.token] = time.monotonic() + lease_seconds()
        return line.popleft()


def _local_give_back(slot: Slot) -> None:
    with _local.lock:
        _local.slots.get(slot.host, {}).pop(slot.token, None)


def hosts_forget() -> None:
    """Drop every slot and line (tests; a site reset). Waiting deliveries stay in the outbox."""
    with _local.lock:
        _local.slots.clear()
        _local.lines.clear()
    client = _client()
    if client is not None:
        keys = list(client.scan_iter(match=PREFIX + "*", count=500))
        if keys:
            client.delete(*keys)
