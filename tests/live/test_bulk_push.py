"""Bulk changes reach open pages as a few coalesced updates, archived and commit ref too.

On the Redis channel layer, as deployed: the publisher sends what a transaction
committed as one message per group, and each process's hub merges what comes
close together, so a hundred-patch bulk change is a handful of swaps, and the
last of them leaves every row as the database has it.
"""

from __future__ import annotations

import xmlrpc.client
from base64 import b64encode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.patches.models import Patch
from tests.factories import make_patch, make_series
from tests.live.conftest import follow, live_db, messages_until_quiet, run

pytestmark = [
    *live_db,
    pytest.mark.redis,
    pytest.mark.skipif(
        "RedisChannelLayer" not in settings.CHANNEL_LAYERS["default"]["BACKEND"],
        reason="the deployed path: run with REDIS_URL",
    ),
]

BULK = 100
# "A handful": a bulk change of a hundred patches must not be a hundred swaps.
HANDFUL = 5


def final_html(messages: list[dict]) -> dict[str, str]:
    """What the page shows once it applied them all: the last html of each element."""
    shown: dict[str, str] = {}
    for message in messages:
        for op in message["ops"]:
            shown[op["id"]] = op["html"]
    return shown


def bulk_post(user, project, patches, **change):
    client = Client()
    client.force_login(user)
    return client.post(
        reverse("patch-list-bulk", args=[project.linkname]),
        {"action": "update", "patch_id": [p.pk for p in patches], **change},
        HTTP_HX_REQUEST="true",
    )


def many_patches(project, n=BULK, **fields):
    return [make_patch(project, **fields) for _ in range(n)]


async def test_a_bulk_state_change_is_a_handful_of_updates(project, maintainer):
    patches = await run(many_patches, project)
    page = await follow(f"/ws/list/{project.pk}/?archive=both")
    response = await run(bulk_post, maintainer, project, patches, state="accepted")
    assert response.status_code == 200
    messages = await messages_until_quiet(page)
    assert 1 <= len(messages) <= HANDFUL, len(messages)
    # Every change reached the page, and its rows end as the database has them.
    events = [e for m in messages for e in m["events"]]
    assert len(events) == len(set(events)) == BULK
    shown = final_html(messages)
    assert set(shown) == {f"patch-row-{p.pk}" for p in patches}
    assert all(">Accepted</span>" in html for html in shown.values())


async def test_a_bulk_archive_is_pushed_and_coalesced(project, maintainer):
    patches = await run(many_patches, project)
    watching = await follow(f"/ws/list/{project.pk}/")  # the default list: not archived
    response = await run(bulk_post, maintainer, project, patches, archived="yes")
    assert response.status_code == 200
    messages = await messages_until_quiet(watching)
    assert 1 <= len(messages) <= HANDFUL, len(messages)
    ops = {op["id"]: op for m in messages for op in m["ops"]}
    assert set(ops) == {f"patch-row-{p.pk}" for p in patches}
    # Archived rows leave this list at its next refresh; meanwhile they say so.
    assert all(op["nomatch"] is True and "archived-badge" in op["html"] for op in ops.values())


async def test_a_series_wide_archive_reaches_the_series_list_and_its_patches_lists(
    project, maintainer
):
    series = await run(make_series, project, name="Widgets", total=30)
    patches = await run(many_patches, project, n=30, series=series)
    series_list = await follow(f"/ws/serieslist/{project.pk}/")
    patch_list = await follow(f"/ws/list/{project.pk}/?archive=both")

    def archive_series():
        client = Client()
        client.force_login(maintainer)
        return client.post(reverse("series-action", args=[series.pk]), {"archived": "true"})

    assert (await run(archive_series)).status_code == 302
    rows = await messages_until_quiet(series_list)
    assert 1 <= len(rows) <= HANDFUL
    assert set(final_html(rows)) == {f"series-row-{series.pk}"}
    lists = await messages_until_quiet(patch_list)
    assert 1 <= len(lists) <= HANDFUL
    shown = final_html(lists)
    assert set(shown) == {f"patch-row-{p.pk}" for p in patches}
    assert all("archived-badge" in html for html in shown.values())


async def test_commit_refs_set_over_xmlrpc_reach_the_open_patch_pages(project, maintainer):
    patches = await run(many_patches, project, n=3)
    pages = [await follow(f"/ws/patch/{p.pk}/") for p in patches]
    listing = await follow(f"/ws/list/{project.pk}/")
    auth = b64encode(f"{maintainer.username}:password".encode()).decode()

    def set_commit_refs():
        # As a git post-receive hook does through pwclient: one call a patch.
        client = Client()
        for n, patch in enumerate(patches):
            body = xmlrpc.client.dumps(
                (patch.pk, {"commit_ref": f"deadbeef{n}", "archived": True}), "patch_set"
            )
            response = client.post(
                "/xmlrpc/", body, content_type="text/xml", HTTP_AUTHORIZATION=f"Basic {auth}"
            )
            assert xmlrpc.client.loads(response.content)[0] == (True,)

    await run(set_commit_refs)
    for n, page in enumerate(pages):
        shown = final_html(await messages_until_quiet(page, quiet=1))
        assert f"deadbeef{n}" in shown["patch-facts"] and "archived" in shown["patch-facts"]
    shown = final_html(await messages_until_quiet(listing, quiet=1))
    assert all("archived-badge" in shown[f"patch-row-{p.pk}"] for p in patches)
    archived = await run(
        lambda: set(Patch.objects.filter(archived=True).values_list("pk", flat=True))
    )
    assert archived == {p.pk for p in patches}
