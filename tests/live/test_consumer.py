"""The live websocket: who may connect, which groups it hears, what it renders for whom."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.events.models import Event
from tests.factories import make_patch, make_project
from tests.live.conftest import (
    follow,
    latest_event_id,
    live_db,
    receive,
    run,
    set_state,
    ws_open,
    ws_resume,
)

pytestmark = live_db


# --- connecting --------------------------------------------------------------------


async def test_anonymous_viewer_connects_and_gets_an_empty_catch_up(project):
    communicator, connected, _ = await ws_open(f"/ws/list/{project.pk}/")
    assert connected
    reply = await ws_resume(communicator, last=await run(latest_event_id))
    assert reply == {
        "type": "events",
        "events": [],
        "cursor": reply["cursor"],
        "ops": [],
        "replay": True,
    }
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example.com",
        # Same hostname, another origin (the probe: only the hostname was compared).
        b"http://localhost:8080",
        b"https://localhost",
        b"http://localhost.evil.example.com",
        b"null",
        b"",
    ],
)
async def test_foreign_origin_is_refused(project, origin):
    communicator, connected, _ = await ws_open(f"/ws/list/{project.pk}/", origin=origin)
    assert not connected


async def test_the_site_origin_behind_a_tls_proxy_is_accepted(project):
    communicator, connected, _ = await ws_open(
        f"/ws/list/{project.pk}/",
        origin=b"https://localhost",
        extra_headers=[(b"x-forwarded-proto", b"https")],
    )
    assert connected
    await communicator.disconnect()


async def test_missing_page_is_closed_with_not_found_and_not_retried(db):
    communicator, connected, _ = await ws_open("/ws/patch/999999/")
    assert connected  # accepted only to say why: browsers see 4404 and stop retrying
    closing = await communicator.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


async def test_unknown_page_kind_is_closed_with_not_found(project):
    communicator, connected, _ = await ws_open(f"/ws/nonsense/{project.pk}/")
    assert connected
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


BAD_MESSAGES = [
    ("not json", "messages must be JSON objects"),
    ("[1, 2]", "messages must be JSON objects"),
    ('{"type": "resume", "last": -1}', "'last' must be an event id (>= 0)"),
    ('{"type": "resume", "last": "7"}', "'last' must be an event id (>= 0)"),
    ('{"type": "resume", "last": true}', "'last' must be an event id (>= 0)"),
    ('{"type": "resume", "last": 0, "patches": "1,2"}', "'patches' must be a list of ids"),
    ('{"type": "resume", "last": 0, "patches": [1, "x"]}', "'patches' must be a list of ids"),
    ('{"type": "subscribe"}', "unknown message type 'subscribe'"),
]


async def test_bad_messages_get_an_error_and_change_nothing(project, maintainer):
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    for message, error in BAD_MESSAGES:
        await communicator.send_to(text_data=message)
        assert await receive(communicator) == {"type": "error", "error": error}, message
    # Still not subscribed: a change now reaches nobody on this socket.
    patch = await run(make_patch, project)
    await run(set_state, patch, "accepted", maintainer)
    assert await communicator.receive_nothing(timeout=0.3)
    # And the socket still works.
    await communicator.send_json_to({"type": "ping", "last": 0})
    assert await receive(communicator) == {"type": "pong"}
    await communicator.disconnect()


# --- groups -------------------------------------------------------------------------


async def test_list_hears_its_own_project_only(project, maintainer):
    other = await run(make_project, "other")
    mine, theirs = await run(make_patch, project), await run(make_patch, other)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    await ws_resume(communicator, last=await run(latest_event_id))

    await run(set_state, theirs, "accepted", maintainer)
    assert await communicator.receive_nothing(timeout=0.3)

    await run(set_state, mine, "accepted", maintainer)
    message = await receive(communicator)
    assert message["type"] == "events" and message["replay"] is False
    [event_id] = message["events"]
    assert message["cursor"] == event_id
    [op] = message["ops"]
    assert op["op"] == "replace" and op["id"] == f"patch-row-{mine.pk}"
    assert "Accepted" in op["html"]
    await communicator.disconnect()


async def test_no_broadcast_before_the_page_says_where_it_is(project, maintainer):
    patch = await run(make_patch, project)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    await run(set_state, patch, "accepted", maintainer)
    # Not joined yet: the change comes with the catch-up instead, exactly once.
    assert await communicator.receive_nothing(timeout=0.3)
    last = await run(
        lambda: Event.objects.order_by("-id")[1].id if Event.objects.count() > 1 else 0
    )
    reply = await ws_resume(communicator, last=last)
    assert reply["events"] == [await run(latest_event_id)]
    assert [op["id"] for op in reply["ops"]] == [f"patch-row-{patch.pk}"]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.mark.redis
@pytest.mark.skipif(
    "RedisChannelLayer" not in settings.CHANNEL_LAYERS["default"]["BACKEND"],
    reason="the in-memory channel layer has no blocking reads (run with REDIS_URL)",
)
async def test_an_idle_page_outlives_the_channel_layers_blocking_reads(project, maintainer):
    """Consumers block on Redis for 5 s at a time; an idle page must not be cut off by it."""
    from channels_redis.core import RedisChannelLayer

    patch = await run(make_patch, project)
    communicator = await follow(f"/ws/list/{project.pk}/")
    idle = 2 * RedisChannelLayer.brpop_timeout + 1
    assert await communicator.receive_nothing(timeout=idle, interval=0.5)
    await run(set_state, patch, "accepted", maintainer)
    message = await receive(communicator)
    assert [op["id"] for op in message["ops"]] == [f"patch-row-{patch.pk}"]
    await communicator.disconnect()


async def test_pages_leaving_a_group_do_not_silence_the_others(project, maintainer):
    patch = await run(make_patch, project)
    leaving = await follow(f"/ws/list/{project.pk}/")
    staying = await follow(f"/ws/list/{project.pk}/")
    await leaving.disconnect()
    await run(set_state, patch, "accepted", maintainer)
    message = await receive(staying)
    assert [op["id"] for op in message["ops"]] == [f"patch-row-{patch.pk}"]
    await staying.disconnect()
    # The last one gone, a new page joins afresh.
    again = await follow(f"/ws/list/{project.pk}/")
    await run(set_state, patch, "new", maintainer)
    assert [op["id"] for op in (await receive(again))["ops"]] == [f"patch-row-{patch.pk}"]
    await again.disconnect()
