"""Catch-up: a page resuming from its cursor gets every missed event once, in order."""

from __future__ import annotations

from unittest import mock

from apps.events.models import Event
from apps.events.services import event_record
from apps.live import catchup, consumers, publish
from apps.live.pages import live_page_open
from apps.patches.services import patch_update
from tests.factories import make_patch, make_project
from tests.live.conftest import (
    event_ids,
    latest_event_id,
    live_db,
    new_patch,
    receive,
    run,
    set_state,
    ws_open,
    ws_resume,
)

pytestmark = live_db


async def test_resume_replays_missed_events_in_order_as_one_batch(project, maintainer):
    old = await run(new_patch, project)
    cursor = await run(latest_event_id)
    # While the page was away: two new patches, a triaged old one.
    first = await run(new_patch, project)
    await run(set_state, old, "under-review", maintainer)
    second = await run(new_patch, project)
    missed = await run(event_ids, id__gt=cursor)

    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor, patches=[old.pk])

    assert reply["type"] == "events" and reply["replay"] is True
    assert reply["events"] == missed
    assert reply["cursor"] == missed[-1]
    ops = [(op["op"], op["id"], op.get("at")) for op in reply["ops"]]
    # New rows go on top in arrival order (the later one ends up above); the old
    # row is swapped in place; each row once, however many events touched it.
    assert ops == [
        ("replace", f"patch-row-{old.pk}", None),
        ("upsert", f"patch-row-{first.pk}", "top"),
        ("upsert", f"patch-row-{second.pk}", "top"),
    ] or ops == [
        ("upsert", f"patch-row-{first.pk}", "top"),
        ("replace", f"patch-row-{old.pk}", None),
        ("upsert", f"patch-row-{second.pk}", "top"),
    ]
    assert "Under Review" in next(
        op["html"] for op in reply["ops"] if op["id"].endswith(str(old.pk))
    )
    await communicator.disconnect()


async def test_events_of_other_projects_are_not_replayed(project, maintainer):
    other = await run(make_project, "other")
    cursor = await run(latest_event_id)
    await run(new_patch, other)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor)
    assert reply["events"] == [] and reply["ops"] == []
    await communicator.disconnect()


async def test_too_large_a_gap_asks_for_a_reload_instead(project, settings):
    settings.LIVE_CATCHUP_LIMIT = 3
    cursor = await run(latest_event_id)
    for _ in range(4):
        await run(new_patch, project)
    newest = await run(latest_event_id)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor)
    assert reply == {"type": "reload", "cursor": newest, "regions": ["patch-list-results"]}
    # Later changes still arrive live after the reload notice.
    patch = await run(new_patch, project)
    message = await receive(communicator)
    assert [op["id"] for op in message["ops"]] == [f"patch-row-{patch.pk}"]
    await communicator.disconnect()


async def test_an_event_in_the_catch_up_is_not_sent_again_live(project, maintainer):
    """Joining the group comes before reading the log: the overlap is sent once."""
    patch = await run(make_patch, project)
    cursor = await run(latest_event_id)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    real_events_missed = catchup.events_missed

    def change_then_read(page, last, **kwargs):
        # The change commits (and is broadcast) between joining and reading the log.
        set_state(patch, "accepted", maintainer)
        return real_events_missed(page, last, **kwargs)

    with mock.patch.object(catchup, "events_missed", change_then_read):
        reply = await ws_resume(communicator, last=cursor)
    event_id = await run(latest_event_id)
    assert reply["events"] == [event_id]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_late_commit_below_the_cursor_is_replayed(project, maintainer):
    """Ids are taken at insert: an event may commit after a higher one the page has."""
    slow, fast = await run(make_patch, project), await run(make_patch, project)

    def commit_out_of_order():
        # The slow transaction took id N first; the fast one took N+1 and committed first.
        placeholder = Event.objects.create(category=Event.PATCH_STATE_CHANGED, project=project)
        late_id = placeholder.pk
        placeholder.delete()
        set_state(fast, "accepted", maintainer)
        cursor = latest_event_id()
        event_record(category=Event.PATCH_STATE_CHANGED, project=project, patch=slow, id=late_id)
        return late_id, cursor

    late_id, cursor = await run(commit_out_of_order)
    assert late_id < cursor
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor)
    assert late_id in reply["events"]
    assert f"patch-row-{slow.pk}" in [op["id"] for op in reply["ops"]]
    await communicator.disconnect()


async def test_ping_repairs_a_broadcast_the_broker_lost(project, maintainer):
    patch = await run(make_patch, project)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    cursor = await run(latest_event_id)
    await ws_resume(communicator, last=cursor)

    async def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    with mock.patch.object(publish, "_send_batches", broker_down):
        await run(set_state, patch, "accepted", maintainer)  # the change still commits
        # (The publisher sends after the commit, on its own loop: still broken then.)
        assert await communicator.receive_nothing(timeout=0.3)

    # Pings come often; the log is read at most every PING_CHECK_SECONDS.
    await communicator.send_json_to({"type": "ping", "last": cursor})
    assert await receive(communicator) == {"type": "pong"}
    assert await communicator.receive_nothing(timeout=0.3)

    with mock.patch.object(consumers, "PING_CHECK_SECONDS", 0):
        await communicator.send_json_to({"type": "ping", "last": cursor})
        assert await receive(communicator) == {"type": "pong"}
        repair = await receive(communicator)
        assert repair["events"] == [await run(latest_event_id)]
        assert [op["id"] for op in repair["ops"]] == [f"patch-row-{patch.pk}"]
        # A second ping finds nothing new.
        await communicator.send_json_to({"type": "ping", "last": repair["cursor"]})
        assert await receive(communicator) == {"type": "pong"}
        assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_page_resumes_once_per_connection(project):
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    await ws_resume(communicator, last=await run(latest_event_id))
    reply = await ws_resume(communicator, last=0)
    assert reply == {"type": "error", "error": "already resumed"}
    await communicator.disconnect()


def test_catch_up_scope_of_a_patch_page(project, maintainer):
    patch = make_patch(project)
    sibling = make_patch(project)
    stranger_patch = make_patch(project)
    cursor = latest_event_id()
    set_state(patch, "accepted", maintainer)
    set_state(stranger_patch, "accepted", maintainer)
    patch_update(patch=sibling, actor=maintainer, related=[patch])
    page = live_page_open(kind="patch", object_id=patch.pk, query_string="", user=None)
    missed = catchup.events_missed(page, cursor)
    ids = [ref["event_id"] for ref in missed.events]
    assert ids == event_ids(id__gt=cursor, patch__in=[patch, sibling])
    assert event_ids(id__gt=cursor, patch=stranger_patch)[0] not in ids
