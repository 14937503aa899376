"""Patch and series pages: what each event changes on them, rendered for each viewer."""

from __future__ import annotations

from django.db import transaction

from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import PatchTag
from apps.patches.services import patch_update
from apps.projects.models import Tag
from tests.factories import (
    default_state,
    make_patch,
    make_patch_comment,
    make_series,
    make_user,
)
from tests.live.conftest import (
    follow,
    latest_event_id,
    live_db,
    receive,
    run,
)

pytestmark = live_db


async def ops_of(communicator) -> dict[str, dict]:
    return {op["id"]: op for op in (await receive(communicator))["ops"]}


# --- patch page -----------------------------------------------------------------------


async def test_patch_page_hears_its_patch_and_not_others(project, maintainer):
    patch, other = await run(make_patch, project), await run(make_patch, project)
    communicator = await follow(f"/ws/patch/{patch.pk}/")
    await run(patch_update, patch=other, actor=maintainer, state=await run(default_state, "rfc"))
    assert await communicator.receive_nothing(timeout=0.3)
    await run(patch_update, patch=patch, actor=maintainer, state=await run(default_state, "rfc"))
    message = await receive(communicator)
    assert message["events"] == [await run(latest_event_id)]
    await communicator.disconnect()


async def test_triage_form_goes_only_to_those_who_may_use_it(project, maintainer, submitter):
    patch = await run(make_patch, project, submitter=submitter)
    stranger = await run(make_user, "nosy")
    pages = {
        "anonymous": await follow(f"/ws/patch/{patch.pk}/"),
        "stranger": await follow(f"/ws/patch/{patch.pk}/", stranger),
        "submitter": await follow(f"/ws/patch/{patch.pk}/", submitter.user),
        "maintainer": await follow(f"/ws/patch/{patch.pk}/", maintainer),
    }
    await run(
        patch_update,
        patch=patch,
        actor=maintainer,
        state=await run(default_state, "accepted"),
        delegate=maintainer,
    )
    for who, communicator in pages.items():
        ops = await ops_of(communicator)
        # Two events (state, delegate); each viewer gets the facts, maybe twice.
        facts = ops["patch-facts"]["html"]
        assert "Accepted" in facts and "Mae Maintainer" in facts, who
        if who in ("submitter", "maintainer"):
            assert 'name="state"' in ops["patch-triage"]["html"], who
            assert ops["patch-triage"]["keep_while_editing"] is True
        else:
            assert "patch-triage" not in ops, who
            assert 'name="state"' not in facts
        await communicator.disconnect()


async def test_check_appears_on_the_patch_page(project, maintainer):
    patch = await run(make_patch, project)
    communicator = await follow(f"/ws/patch/{patch.pk}/")
    await run(
        check_create,
        patch=patch,
        user=maintainer,
        state="fail",
        context="build-arm64",
        description="broke <arm64>",
    )
    ops = await ops_of(communicator)
    html = ops["patch-checks"]["html"]
    assert "build-arm64" in html and "broke &lt;arm64&gt;" in html and " hidden" not in html
    await communicator.disconnect()


def comment_with_tag(patch, tag_name):
    with transaction.atomic():
        comment = make_patch_comment(patch, content=f"{tag_name}: Rev <rev@example.com>")
        PatchTag.objects.update_or_create(
            patch=patch, tag=Tag.objects.get(name=tag_name), defaults={"count": 1}
        )
        event_record(
            category=Event.PATCH_COMMENT_CREATED,
            project=patch.project,
            patch=patch,
            patch_comment=comment,
        )
    return comment


async def test_comment_and_its_tag_appear_on_the_patch_page(project, maintainer):
    patch = await run(make_patch, project)
    anonymous = await follow(f"/ws/patch/{patch.pk}/")
    triager = await follow(f"/ws/patch/{patch.pk}/", maintainer)
    comment = await run(comment_with_tag, patch, "Reviewed-by")

    ops = await ops_of(anonymous)
    added = ops[f"comment-{comment.pk}"]
    assert added["op"] == "upsert" and added["into"] == "comments-list"
    assert added["at"] == "bottom" and added["reveal"] == "comments"
    assert "Reviewed-by: Rev &lt;rev@example.com&gt;" in added["html"]
    assert "Mark addressed" not in added["html"]  # not theirs to mark
    assert 'data-live-count="comments">1<' in ops["comments-h"]["html"]
    assert "Reviewed-by ×1" in ops["patch-facts"]["html"]

    ops = await ops_of(triager)
    assert "Mark addressed" in ops[f"comment-{comment.pk}"]["html"]
    for communicator in (anonymous, triager):
        await communicator.disconnect()


async def test_relation_appears_on_both_related_pages(project, maintainer):
    patch, backport = await run(make_patch, project), await run(make_patch, project)
    page = await follow(f"/ws/patch/{patch.pk}/")
    other_page = await follow(f"/ws/patch/{backport.pk}/")
    await run(patch_update, patch=backport, actor=maintainer, related=[patch])
    assert backport.name in (await ops_of(page))["patch-related"]["html"]
    assert patch.name in (await ops_of(other_page))["patch-related"]["html"]
    for communicator in (page, other_page):
        await communicator.disconnect()


async def test_commit_ref_shows_live_on_the_patch_page(project, maintainer):
    patch = await run(make_patch, project)
    communicator = await follow(f"/ws/patch/{patch.pk}/")
    await run(patch_update, patch=patch, actor=maintainer, commit_ref="abc123def")
    assert "abc123def" in (await ops_of(communicator))["patch-facts"]["html"]
    await communicator.disconnect()


# --- series page ------------------------------------------------------------------------


def series_patch(series, number):
    with transaction.atomic():
        patch = make_patch(
            series.project, series=series, number=number, name=f"[PATCH {number}/3] part"
        )
        event_record(category=Event.PATCH_CREATED, project=series.project, patch=patch)
    return patch


async def test_series_page_fills_in_as_patches_arrive(project, maintainer):
    series = await run(make_series, project, total=3)
    communicator = await follow(f"/ws/series/{series.pk}/")

    second = await run(series_patch, series, 2)
    ops = await ops_of(communicator)
    row = ops[f"patch-row-{second.pk}"]
    assert (row["op"], row["into"], row["at"]) == ("upsert", "patch-list-body", "sorted")
    assert (row["sort_attr"], row["key"]) == ("data-number", "2")
    assert "<strong>1/3</strong>" in ops["series-progress"]["html"]

    first = await run(series_patch, series, 1)
    ops = await ops_of(communicator)
    assert ops[f"patch-row-{first.pk}"]["key"] == "1"
    assert "<strong>2/3</strong>" in ops["series-progress"]["html"]

    await run(patch_update, patch=first, actor=maintainer, state=await run(default_state, "rfc"))
    ops = await ops_of(communicator)
    assert ops[f"patch-row-{first.pk}"]["op"] == "replace"
    assert "RFC" in ops[f"patch-row-{first.pk}"]["html"]
    await communicator.disconnect()


async def test_a_page_in_several_groups_gets_a_broadcast_once(project, maintainer):
    series = await run(make_series, project, total=2)
    patch = await run(make_patch, project, series=series, number=1)
    communicator = await follow(f"/ws/patch/{patch.pk}/")  # its patch's and its series' groups
    await run(patch_update, patch=patch, actor=maintainer, commit_ref="cafe1234")
    assert "cafe1234" in (await ops_of(communicator))["patch-facts"]["html"]
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
