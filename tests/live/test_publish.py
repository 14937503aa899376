"""Publishing committed events: nothing where no page can listen, and through Redis
without making the committing process wait for the broker (issue 22)."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import override_settings

from apps.events.models import Event
from apps.events.services import event_record, events_batched
from apps.live import publish
from apps.live.publish import project_group, publish_flush

pytestmark = pytest.mark.django_db(transaction=True)

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def spied(monkeypatch):
    """Counts of the calls a broadcast makes: group lookups and async_to_sync hops."""
    calls = {"groups": 0, "async_to_sync": 0}
    event_groups, hop = publish.event_groups, publish.async_to_sync

    def counted_groups(*args, **kwargs):
        calls["groups"] += 1
        return event_groups(*args, **kwargs)

    def counted_hop(*args, **kwargs):
        calls["async_to_sync"] += 1
        return hop(*args, **kwargs)

    monkeypatch.setattr(publish, "event_groups", counted_groups)
    monkeypatch.setattr(publish, "async_to_sync", counted_hop)
    return calls


def record_committed(project, count: int = 2) -> list[Event]:
    """Events recorded as a mail records them: batched, in one committed transaction."""
    with transaction.atomic(), events_batched():
        events = [
            event_record(category=Event.SERIES_CREATED, project=project) for _ in range(count)
        ]
    return events


def test_no_broadcast_from_a_process_where_no_page_can_listen(project, spied):
    # A worker or parsemail without Redis: an in-memory layer nobody in this process joined.
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        record_committed(project)

    assert spied == {"groups": 0, "async_to_sync": 0}


def test_a_page_open_in_this_process_hears_it_through_the_in_memory_layer(project, spied):
    # The embedded `./dev serve`: the page's consumer joined the project's group here.
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(project_group(project.pk), channel)
        events = record_committed(project)
        heard = async_to_sync(receive_events)(layer, channel, len(events))

    assert heard == [e.pk for e in events]
    assert spied["async_to_sync"] >= 1


@pytest.fixture
def redis_layer():
    layer = get_channel_layer()
    if type(layer).__name__ != "RedisChannelLayer":
        pytest.skip("needs REDIS_URL (the Redis channel layer)")
    return layer


async def receive_events(layer, channel: str, count: int) -> list[int]:
    """The ids of the next `count` events a channel hears, in order (a transaction's
    events travel together, as one message of several refs)."""
    ids: list[int] = []
    while len(ids) < count:
        message = await asyncio.wait_for(layer.receive(channel), 5)
        ids += [ref["event_id"] for ref in message["refs"]]
    return ids


def test_the_commit_does_not_wait_for_the_broker(project, redis_layer, monkeypatch, caplog):
    """A broker that answers slowly holds the publisher, never the worker's commit."""
    channel = async_to_sync(redis_layer.new_channel)()
    async_to_sync(redis_layer.group_add)(project_group(project.pk), channel)
    released = threading.Event()
    group_send = type(redis_layer).group_send

    async def slow_group_send(self, group, message):
        while not released.is_set():  # the broker has not answered yet
            await asyncio.sleep(0.01)
        await group_send(self, group, message)

    monkeypatch.setattr(type(redis_layer), "group_send", slow_group_send)
    # What the commit used to wait for (at most, before giving up with a warning).
    monkeypatch.setattr(publish, "PUBLISH_TIMEOUT", 0.2, raising=False)
    with caplog.at_level(logging.WARNING, logger="apps.live.publish"):
        events = record_committed(project, count=3)
        # The commit is done and the broadcasts are still on their way.
        assert not publish_flush(timeout=0)
        released.set()
        assert publish_flush()
    heard = async_to_sync(receive_events)(redis_layer, channel, len(events))

    assert heard == [e.pk for e in events]
    assert "could not broadcast" not in caplog.text


def test_broadcasts_through_redis_keep_the_commit_order(project, redis_layer):
    channel = async_to_sync(redis_layer.new_channel)()
    async_to_sync(redis_layer.group_add)(project_group(project.pk), channel)
    events = [e for _ in range(5) for e in record_committed(project, count=2)]
    assert publish_flush()

    heard = async_to_sync(receive_events)(redis_layer, channel, len(events))

    assert heard == [e.pk for e in events]
