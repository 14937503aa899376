"""The live series list: new series arrive, rows follow their patches' states, checks, tags."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from apps.checks.models import Check
from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.live import catchup, pages, render
from apps.patches.models import Patch, PatchTag
from apps.patches.services import patch_update
from apps.projects.models import Tag
from apps.series.models import Series
from tests.factories import (
    make_cover,
    make_cover_comment,
    make_patch,
    make_patch_comment,
    make_person,
    make_series,
    make_user,
)
from tests.live.conftest import (
    event_ids,
    latest_event_id,
    live_db,
    messages_until_quiet,
    receive,
    run,
    session_cookie,
    set_state,
    ws_open,
    ws_resume,
)


def live(test):
    """Consumers read committed data from another thread (see conftest.live_db)."""
    for mark in reversed(live_db):
        test = mark(test)
    return test


# --- changes, made as ingestion and triage make them ------------------------------------


def new_series(project, name="Frobnicate the widgets", total=2, patches=0, **fields):
    """A series with its series-created event (and patches with theirs), committed."""
    with transaction.atomic():
        series = make_series(project, name=name, total=total, **fields)
        event_record(category=Event.SERIES_CREATED, project=project, series=series)
        for number in range(1, patches + 1):
            patch = make_patch(project, series=series, number=number)
            event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    return series


def add_patch(series, number):
    with transaction.atomic():
        patch = make_patch(series.project, series=series, number=number)
        event_record(category=Event.PATCH_CREATED, project=series.project, patch=patch)
    return patch


def archive(patch, actor):
    return patch_update(patch=patch, actor=actor, archived=True)


def acked_in_comment(patch):
    """A reply to the patch with an Acked-by, as ingestion records it (tag counts included)."""
    with transaction.atomic():
        comment = make_patch_comment(patch, content="Acked-by: Ada <ada@example.org>")
        PatchTag.objects.create(patch=patch, tag=Tag.objects.get(abbrev="A"), count=1)
        event_record(
            category=Event.PATCH_COMMENT_CREATED,
            project=patch.project,
            patch=patch,
            patch_comment=comment,
        )


def reviewed_on_cover(series):
    """A Reviewed-by replying to the cover letter, counted on every patch of the series."""
    with transaction.atomic():
        comment = make_cover_comment(series.cover, content="Reviewed-by: Bo <bo@example.org>")
        tag = Tag.objects.get(abbrev="R")
        for patch in series.patches.all():
            PatchTag.objects.create(patch=patch, tag=tag, count=1)
        event_record(
            category=Event.COVER_COMMENT_CREATED,
            project=series.project,
            cover=series.cover,
            cover_comment=comment,
        )


async def follow(project, user=None, query: str = "", *, cookie: str = ""):
    path = f"/ws/serieslist/{project.pk}/" + (f"?{query}" if query else "")
    communicator, connected, _ = await ws_open(path, user, cookie=cookie)
    assert connected
    reply = await ws_resume(communicator, last=await run(latest_event_id))
    assert reply["type"] == "events"
    return communicator


def cell(html: str, cls: str) -> str:
    """The text of a row's cell of that class."""
    match = re.search(rf'<td class="(?:[^"]* )?{cls}(?: [^"]*)?"[^>]*>(.*?)</td>', html, re.S)
    assert match, html
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


# --- the page itself ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_renders_rows_by_the_partial_inside_a_live_region(client, project):
    series = new_series(project, patches=1)
    html = client.get(f"/project/{project.linkname}/series/?q=frob").content.decode()
    region = html.index('id="series-list-results"')
    assert region < html.index('id="series-list-body"') < html.index(f'id="series-row-{series.pk}"')
    # The socket lives inside the region (a reload re-fetches it with a fresh cursor) and
    # carries the page's search.
    assert region < html.index('ws-connect="/ws/serieslist/')
    assert f'ws-connect="/ws/serieslist/{project.pk}/?q=frob"' in html
    assert 'data-live-region="series-list-results"' in html


# --- connecting ----------------------------------------------------------------------------


@live
async def test_a_series_list_of_a_missing_project_closes_with_not_found(db):
    communicator, connected, _ = await ws_open("/ws/serieslist/999999/")
    assert connected
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4404}


# --- new series -----------------------------------------------------------------------------


@live
async def test_a_new_series_appears_on_top_of_the_first_page(project):
    communicator = await follow(project)
    series = await run(new_series, project, name="<script>alert('x')</script> frob", patches=1)

    # One transaction: the series and its patch come together.
    messages = await messages_until_quiet(communicator)
    ops = [op for message in messages for op in message["ops"]]
    upsert = next(op for op in ops if op["op"] == "upsert")
    assert upsert["id"] == f"series-row-{series.pk}"
    assert upsert["into"] == "series-list-body" and upsert["at"] == "top"
    html = upsert["html"]
    assert html.startswith(f'<tr id="series-row-{series.pk}"')
    # Mail content is escaped.
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)" in html
    # The patch that came with it updates the same row: 1 of 2 received, 1 New.
    final = [op for op in ops if op["id"] == f"series-row-{series.pk}"][-1]["html"]
    assert cell(final, "progress") == "1/2"
    assert cell(final, "states") == "1 New"


@live
async def test_a_new_series_waits_behind_the_bar_on_later_pages(project):
    communicator = await follow(project, query="page=2")
    series = await run(new_series, project)
    [op] = (await receive(communicator))["ops"]
    assert (op["op"], op["id"], op["at"]) == ("upsert", f"series-row-{series.pk}", "pending")


@live
async def test_a_new_series_the_search_does_not_match_is_not_shown(project):
    communicator = await follow(project, query="q=frobnicate")
    await run(new_series, project, name="Tidy the docs")
    assert await communicator.receive_nothing(timeout=0.3)
    shown = await run(new_series, project, name="Frobnicate harder")
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{shown.pk}" and op["at"] == "top"


@live
async def test_a_series_of_another_project_is_not_shown(project):
    from tests.factories import make_project

    other = await run(make_project, "other")
    communicator = await follow(project)
    await run(new_series, other)
    assert await communicator.receive_nothing(timeout=0.3)


# --- rows that change ---------------------------------------------------------------------


@live
async def test_a_patch_state_change_updates_its_series_row(project, maintainer):
    series = await run(new_series, project, patches=2)
    other = await run(new_series, project, name="Another", patches=1)
    first = await run(lambda: series.patches.get(number=1))
    communicator = await follow(project)

    await run(set_state, first, "accepted", maintainer)
    [op] = (await receive(communicator))["ops"]
    # The patch's series' row, not the other one's.
    assert op["op"] == "replace" and op["id"] == f"series-row-{series.pk}"
    assert op["nomatch"] is False
    assert cell(op["html"], "states") == "1 Accepted 1 New"
    assert f"series-row-{other.pk}" not in op["html"]


@live
async def test_progress_follows_the_patches_that_arrive(project):
    series = await run(new_series, project, total=3, patches=1)
    communicator = await follow(project)
    await run(add_patch, series, 2)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and cell(op["html"], "progress") == "2/3"


@live
async def test_a_check_updates_the_checks_cell(project, maintainer):
    series = await run(new_series, project, patches=2)
    patch = await run(lambda: series.patches.get(number=2))
    communicator = await follow(project)

    await run(check_create, patch=patch, user=maintainer, state=Check.FAIL, context="build")
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}"
    assert cell(op["html"], "checks") == "fail"


@live
async def test_tags_given_in_replies_to_a_patch_or_the_cover_update_the_tags_cell(project):
    series = await run(new_series, project, patches=2)
    cover = await run(make_cover, project)
    await run(lambda: Series.objects.filter(pk=series.pk).update(cover=cover))
    series = await run(lambda: Series.objects.select_related("cover").get(pk=series.pk))
    patch = await run(lambda: series.patches.get(number=1))
    communicator = await follow(project)

    await run(acked_in_comment, patch)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and cell(op["html"], "tags") == "A:1"

    # A cover comment's event names only the cover: the row is found by it.
    await run(reviewed_on_cover, series)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and cell(op["html"], "tags") == "A:1 R:2"


@live
async def test_a_cover_arriving_updates_the_row(project):
    series = await run(new_series, project, name="", patches=1)
    communicator = await follow(project)

    def cover_arrives():
        with transaction.atomic():
            cover = make_cover(project, name="[PATCH 0/2] The real title")
            event_record(category=Event.COVER_CREATED, project=project, cover=cover)
            series.cover = cover
            series.name = "The real title"
            series.save(update_fields=["cover", "name"])

    await run(cover_arrives)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and "The real title" in op["html"]


@live
async def test_a_row_that_no_longer_matches_the_search_is_marked(project, maintainer):
    series = await run(new_series, project, patches=1)
    patch = await run(lambda: series.patches.get())
    communicator = await follow(project, query="q=state:new")

    await run(set_state, patch, "accepted", maintainer)
    [op] = (await receive(communicator))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and op["nomatch"] is True
    # Archiving is no event, but its broadcast updates the row too.
    watching_archive = await follow(project, query="q=-is:archived")
    await run(archive, patch, maintainer)
    [op] = (await receive(watching_archive))["ops"]
    assert op["id"] == f"series-row-{series.pk}" and op["nomatch"] is True


# --- per viewer ------------------------------------------------------------------------------


@live
async def test_only_maintainers_get_the_series_wide_action_form_with_a_working_token(
    project, maintainer
):
    series = await run(new_series, project, patches=2)
    stranger = await run(make_user, "stranger")
    secret = get_random_string(32)
    cookie = f"{await run(session_cookie, maintainer)}; {settings.CSRF_COOKIE_NAME}={secret}"
    as_maintainer = await follow(project, query="q=frob&page=1", cookie=cookie)
    as_stranger = await follow(project, user=stranger)
    anonymous = await follow(project)

    first = await run(lambda: series.patches.get(number=1))
    await run(set_state, first, "under-review", maintainer)
    [mine] = (await receive(as_maintainer))["ops"]
    [theirs] = (await receive(as_stranger))["ops"]
    [anon] = (await receive(anonymous))["ops"]
    for op in (theirs, anon):
        assert "series-action" not in op["html"] and "csrfmiddlewaretoken" not in op["html"]
    assert 'class="series-action"' in mine["html"]
    assert mine["keep_while_editing"] is True
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', mine["html"]).group(1)
    next_url = unescape(re.search(r'name="next" value="([^"]*)"', mine["html"]).group(1))
    assert next_url == f"/project/{project.linkname}/series/?q=frob&page=1"

    # The form works as rendered: a strict CSRF check accepts its token with the cookie.
    def post_form():
        client = Client(enforce_csrf_checks=True)
        client.force_login(maintainer)
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        return client.post(
            reverse("series-action", args=[series.pk]),
            {"csrfmiddlewaretoken": token, "state": "accepted", "next": next_url},
        )

    response = await run(post_form)
    assert response.status_code == 302 and response["Location"] == next_url
    states = await run(lambda: set(series.patches.values_list("state__slug", flat=True)))
    assert states == {"accepted"}


# --- catch-up ---------------------------------------------------------------------------------


@live
async def test_reconnecting_replays_what_was_missed(project, maintainer, settings):
    old = await run(new_series, project, name="Old", patches=1)
    old_patch = await run(lambda: old.patches.get())
    communicator = await follow(project)
    await communicator.disconnect()
    cursor = await run(latest_event_id)

    # While the page was away: a series arrives, the old one's patch is accepted.
    fresh = await run(new_series, project, name="Fresh", patches=1)
    await run(set_state, old_patch, "accepted", maintainer)
    missed = await run(event_ids, id__gt=cursor)

    again, connected, _ = await ws_open(f"/ws/serieslist/{project.pk}/")
    assert connected
    reply = await ws_resume(again, last=cursor)
    assert reply["replay"] is True
    # (Events committed just before the cursor may come again: see catchup.LATE_COMMIT_SECONDS.)
    assert [e for e in reply["events"] if e > cursor] == missed
    ops = {op["id"]: op for op in reply["ops"]}
    assert ops[f"series-row-{fresh.pk}"]["op"] == "upsert"
    assert ops[f"series-row-{fresh.pk}"]["at"] == "top"
    # The old row is swapped in place (an upsert of a row the page has is a swap too).
    assert ops[f"series-row-{old.pk}"].get("nomatch") in (None, False)
    assert cell(ops[f"series-row-{old.pk}"]["html"], "states") == "1 Accepted"
    # Each row once, however many events touched it.
    assert len(reply["ops"]) == 2

    # Nothing missed: the resume still refreshes the rows the page says it shows (by
    # series id; archiving is not an event), and adds none.
    await again.disconnect()
    settings.LIVE_LATE_COMMIT_SECONDS = 0  # no replay of recent events: only the refresh
    third, _, _ = await ws_open(f"/ws/serieslist/{project.pk}/?q=-is:archived")
    await run(archive, old_patch, maintainer)
    reply = await ws_resume(third, last=await run(latest_event_id), patches=[old.pk, fresh.pk])
    assert reply["events"] == []
    assert sorted((op["op"], op["id"], op["nomatch"]) for op in reply["ops"]) == sorted(
        [
            ("replace", f"series-row-{old.pk}", True),
            ("replace", f"series-row-{fresh.pk}", False),
        ]
    )


@live
async def test_too_much_missed_reloads_the_region(project, settings):
    settings.LIVE_CATCHUP_LIMIT = 2
    cursor = await run(latest_event_id)
    for n in range(3):
        await run(new_series, project, name=f"s{n}")
    communicator, _, _ = await ws_open(f"/ws/serieslist/{project.pk}/")
    reply = await ws_resume(communicator, last=cursor)
    assert reply["type"] == "reload" and reply["regions"] == ["series-list-results"]


# --- cost ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rendering_a_batch_costs_a_bounded_number_of_queries(
    project, maintainer, django_assert_max_num_queries
):
    """Forty series and a few hundred events of every kind: the same handful of queries."""
    cursor = latest_event_id()
    reviewer = make_person("rev@example.org")
    for n in range(40):
        series = new_series(project, name=f"frob {n}", total=3, patches=3)
        cover = make_cover(project)
        series.cover = cover
        series.save(update_fields=["cover"])
        event_record(category=Event.COVER_CREATED, project=project, cover=cover)
        comment = make_cover_comment(cover, submitter=reviewer)
        event_record(
            category=Event.COVER_COMMENT_CREATED,
            project=project,
            cover=cover,
            cover_comment=comment,
        )
        for patch in series.patches.all():
            set_state(patch, "under-review", maintainer)
            check_create(patch=patch, user=maintainer, state=Check.WARNING, context="ci")
            acked_in_comment(patch)
        event_record(category=Event.SERIES_COMPLETED, project=project, series=series)
        patch.archived = True
        patch.save(update_fields=["archived"])
    user = maintainer
    page = pages.live_page_open(
        kind="serieslist", object_id=project.pk, query_string="q=frob", user=user
    )
    refs = catchup.events_missed(page, cursor, limit=10_000).events
    refs.append(catchup.event_ref(None, "patch-updated", patch_id=patch.pk))
    assert len(refs) > 40 * 15
    viewer = render.Viewer(user=user, csrf_secret="a" * 32)

    shown = list(Series.objects.filter(project=project).values_list("pk", flat=True))
    with django_assert_max_num_queries(12):
        ops = render.ops_for_batch(page, viewer, refs, refresh_patches=shown)

    assert len(ops) == 40  # one op per series, each rendered once
    assert all(op["op"] == "upsert" and op["at"] == "top" for op in ops)
    assert all("series-action" in op["html"] for op in ops)
    last = Patch.objects.get(pk=patch.pk).series_id
    html = next(op["html"] for op in ops if op["id"] == f"series-row-{last}")
    assert (cell(html, "progress"), cell(html, "states"), cell(html, "checks")) == (
        "3/3",
        "3 Under Review",
        "warning",
    )
    assert cell(html, "tags") == "A:3"
