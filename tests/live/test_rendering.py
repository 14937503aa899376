"""What a live list sends each viewer: their own rendering, the page's filters, no leaks."""

from __future__ import annotations

import json

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import Event
from apps.live import render
from apps.live.pages import live_page_open
from apps.patches.services import patch_update
from tests.factories import default_state, make_patch, make_project, make_user
from tests.live.conftest import (
    follow,
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


async def test_each_viewer_gets_rows_rendered_with_their_own_permissions(project, maintainer):
    reader = await run(make_user, "reader", show_ids=True)
    anonymous = await follow(f"/ws/list/{project.pk}/")
    signed_in = await follow(f"/ws/list/{project.pk}/", reader)
    triager = await follow(f"/ws/list/{project.pk}/", maintainer)

    patch = await run(new_patch, project, name="[PATCH] <b>bold</b> & co")
    ops = {}
    for name, communicator in (("anon", anonymous), ("reader", signed_in), ("mae", triager)):
        [op] = (await receive(communicator))["ops"]
        assert op["op"] == "upsert" and op["id"] == f"patch-row-{patch.pk}"
        ops[name] = op["html"]

    # Mail content is escaped for everyone.
    for html in ops.values():
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>" not in html
    # Selection checkboxes (bulk actions) only for signed-in viewers.
    assert 'name="patch_id"' not in ops["anon"]
    assert 'name="patch_id"' in ops["reader"] and 'name="patch_id"' in ops["mae"]
    # Per-user settings apply: the reader asked to see ids.
    assert f'<td class="col-id num">{patch.pk}</td>' in ops["reader"]
    assert "col-id" not in ops["mae"]
    for communicator in (anonymous, signed_in, triager):
        await communicator.disconnect()


async def test_new_patch_outside_the_filters_is_not_sent(project, maintainer):
    communicator = await follow(f"/ws/list/{project.pk}/?state=new")
    await run(new_patch, project, state=await run(default_state, "accepted"))
    assert await communicator.receive_nothing(timeout=0.3)
    inside = await run(new_patch, project)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"patch-row-{inside.pk}" and op["at"] == "top"
    await communicator.disconnect()


async def test_row_that_leaves_the_filters_is_marked_and_one_that_returns_unmarked(
    project, maintainer
):
    patch = await run(make_patch, project)
    communicator = await follow(f"/ws/list/{project.pk}/?state=new")

    await run(set_state, patch, "accepted", maintainer)
    [op] = (await receive(communicator))["ops"]
    assert (op["op"], op["id"], op["nomatch"]) == ("replace", f"patch-row-{patch.pk}", True)

    await run(set_state, patch, "new", maintainer)
    [op] = (await receive(communicator))["ops"]
    assert op["nomatch"] is False
    await communicator.disconnect()


async def test_archiving_updates_the_row_live_though_it_is_no_event(project, maintainer):
    patch = await run(make_patch, project)
    communicator = await follow(f"/ws/list/{project.pk}/")
    await run(patch_update, patch=patch, actor=maintainer, archived=True)
    message = await receive(communicator)
    assert message["events"] == []  # nothing in the Event log to resume from
    [op] = message["ops"]
    assert op["id"] == f"patch-row-{patch.pk}" and op["nomatch"] is True
    assert "archived-badge" in op["html"]
    await communicator.disconnect()


async def test_resume_refreshes_the_rows_the_page_shows(project, maintainer):
    """A change with no event (archived) while disconnected still shows after resume."""
    patch = await run(make_patch, project)
    cursor = await run(latest_event_id)
    await run(patch_update, patch=patch, actor=maintainer, archived=True)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor, patches=[patch.pk])
    [op] = reply["ops"]
    assert op["id"] == f"patch-row-{patch.pk}" and "archived-badge" in op["html"]
    await communicator.disconnect()


async def test_a_page_just_loaded_gets_only_what_changed_after_its_cursor(project, maintainer):
    """The first resume (no `patches`) sends only what changed after the page's cursor:
    re-rendering what the page shows replaced the row or form a user had just clicked."""
    shown = await run(make_patch, project, name="shown as it is")
    changed = await run(make_patch, project, name="changed after the page was rendered")
    cursor = await run(latest_event_id)
    await run(set_state, changed, "under-review", maintainer)
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/", maintainer)
    reply = await ws_resume(communicator, last=cursor)
    assert [op["id"] for op in reply["ops"]] == [f"patch-row-{changed.pk}"]
    assert f"patch-row-{shown.pk}" not in json.dumps(reply)
    await communicator.disconnect()

    patch_page, _, _ = await ws_open(f"/ws/patch/{shown.pk}/", maintainer)
    reply = await ws_resume(patch_page, last=await run(latest_event_id))
    assert reply["ops"] == []
    await patch_page.disconnect()


async def test_resume_never_renders_rows_of_another_project(project):
    secret = await run(make_patch, await run(make_project, "elsewhere"), name="elsewhere row")
    communicator, _, _ = await ws_open(f"/ws/list/{project.pk}/")
    reply = await ws_resume(communicator, last=await run(latest_event_id), patches=[secret.pk])
    assert reply["ops"] == []
    await communicator.disconnect()


async def test_new_patches_wait_behind_the_bar_where_they_cannot_be_placed(project):
    by_name = await follow(f"/ws/list/{project.pk}/?order=name")
    page_two = await follow(f"/ws/list/{project.pk}/?page=2")
    newest_first = await follow(f"/ws/list/{project.pk}/")
    await run(new_patch, project)
    assert (await receive(by_name))["ops"][0]["at"] == "pending"
    assert (await receive(page_two))["ops"][0]["at"] == "pending"
    assert (await receive(newest_first))["ops"][0]["at"] == "top"
    for communicator in (by_name, page_two, newest_first):
        await communicator.disconnect()


def test_rendering_a_batch_takes_a_fixed_number_of_queries(
    project, maintainer, django_assert_max_num_queries
):
    patches = [make_patch(project) for _ in range(30)]
    refs = [
        {"event_id": n, "category": Event.PATCH_STATE_CHANGED, "patch_id": p.pk}
        for n, p in enumerate(patches, start=1)
    ]
    page = live_page_open(kind="list", object_id=project.pk, query_string="", user=maintainer)
    viewer = render.Viewer(user=maintainer)
    with django_assert_max_num_queries(9):
        ops = render.ops_for_batch(page, viewer, refs)
    assert len(ops) == 30


def test_a_batch_rendered_for_several_kinds_of_viewer_reads_its_rows_once(project, maintainer):
    patches = [make_patch(project) for _ in range(3)]
    refs = [
        {"event_id": n, "category": Event.PATCH_STATE_CHANGED, "patch_id": p.pk}
        for n, p in enumerate(patches, start=1)
    ]
    viewers = [render.Viewer(user=AnonymousUser()), render.Viewer(user=maintainer)]
    pages = [
        live_page_open(kind="list", object_id=project.pk, query_string="", user=viewer.user)
        for viewer in viewers
    ]
    with CaptureQueriesContext(connection) as alone:
        apart = [render.page_ops(p, v, refs) for p, v in zip(pages, viewers, strict=True)]
    with CaptureQueriesContext(connection) as shared, render.reads_shared():
        together = [render.page_ops(p, v, refs) for p, v in zip(pages, viewers, strict=True)]
    assert len(shared) * 2 == len(alone)  # the rows, their tags and checks: read once
    assert together == apart  # and each viewer's rows as before
    assert 'name="patch_id"' in together[1][0]["html"]
    assert 'name="patch_id"' not in together[0][0]["html"]


async def test_a_broadcast_renders_once_for_many_equivalent_pages(project, maintainer):
    """A hundred anonymous readers of a list cost one rendering per process, not a hundred."""
    from unittest import mock

    patch = await run(make_patch, project)
    pages = [await follow(f"/ws/list/{project.pk}/") for _ in range(5)]
    triager = await follow(f"/ws/list/{project.pk}/", maintainer)
    with mock.patch.object(render, "page_ops", wraps=render.page_ops) as rendering:
        await run(set_state, patch, "accepted", maintainer)
        messages = [await receive(communicator) for communicator in [*pages, triager]]
    # Once for the anonymous readers, once for the maintainer (who may see more).
    assert rendering.call_count == 2
    assert len({json.dumps(m["ops"]) for m in messages[:-1]}) == 1
    for communicator in [*pages, triager]:
        await communicator.disconnect()
