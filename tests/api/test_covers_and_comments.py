"""Covers, comments on patches and covers, and marking comments addressed (1.3+)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.patches.models import PatchComment
from tests.api.client import ApiClient
from tests.api.conftest import T0
from tests.factories import make_cover, make_cover_comment, make_patch_comment, make_person

pytestmark = pytest.mark.django_db


def test_cover_list_and_detail(api, world):
    cover = world["cover"]
    listed = api.get("covers/").data
    assert [c["id"] for c in listed] == [cover.id]
    item = listed[0]
    assert item["web_url"] == "http://testserver/project/demo/cover/cover.1@example.com/"
    assert item["mbox"] == "http://testserver/project/demo/cover/cover.1@example.com/mbox/"
    assert item["series"][0]["id"] == world["series"].id
    assert item["comments"] == f"http://testserver/api/1.4/covers/{cover.id}/comments/"
    assert "content" not in item
    detail = api.get(f"covers/{cover.id}/").data
    assert detail["content"] == cover.content
    assert detail["headers"]["Subject"] == "[PATCH v2 0/2] a fine series"


def test_cover_without_series(api, project):
    cover = make_cover(project, name="lonely")
    assert api.get(f"covers/{cover.id}/").data["series"] == []


def test_cover_filters(api, world, submitter):
    other = make_cover(
        world["other_project"], name="other cover", date=T0 + timedelta(days=1), msgid="<oc@x>"
    )
    cover = world["cover"]
    assert [c["id"] for c in api.get("covers/", {"project": "other"}).data] == [other.id]
    assert [c["id"] for c in api.get("covers/", {"series": str(world["series"].id)}).data] == [
        cover.id
    ]
    assert [c["id"] for c in api.get("covers/", {"submitter": submitter.email}).data] == [cover.id]
    assert [c["id"] for c in api.get("covers/", {"msgid": "oc@x"}).data] == [other.id]
    assert [c["id"] for c in api.get("covers/", {"since": "2024-03-02"}).data] == [other.id]
    assert [c["id"] for c in api.get("covers/", {"q": "fine"}).data] == [cover.id]
    assert api.get("covers/", {"project": "nope"}).data == []


def test_cover_field_versions(world):
    cover_id = world["cover"].id
    old = ApiClient("1.0").get(f"covers/{cover_id}/").data
    assert "mbox" not in old and "comments" not in old and "web_url" not in old
    assert "list_archive_url" in ApiClient("1.2").get(f"covers/{cover_id}/").data


# --- comments ------------------------------------------------------------------------------


@pytest.fixture
def comments(world):
    reviewer = make_person("rev@example.org", name="Rae Viewer")
    first = make_patch_comment(
        world["p1"],
        submitter=reviewer,
        date=T0 + timedelta(hours=1),
        content="Looks fine.\n\nAcked-by: Rae Viewer <rev@example.org>",
        headers="Message-Id: <c1@example.org>\nSubject: Re: [PATCH v2 1/2] first change\n"
        "Cc: a@example.org\nCc: b@example.org\n",
        msgid="<c1@example.org>",
    )
    second = make_patch_comment(world["p1"], date=T0 + timedelta(hours=2), msgid="<c2@example.org>")
    on_cover = make_cover_comment(
        world["cover"],
        submitter=reviewer,
        date=T0 + timedelta(hours=1),
        headers="Subject: Re: [PATCH v2 0/2] a fine series\n",
    )
    return {"first": first, "second": second, "cover": on_cover, "reviewer": reviewer}


def test_patch_comments_in_date_order(api, world, comments):
    data = api.get(f"patches/{world['p1'].id}/comments/").data
    assert [c["id"] for c in data] == [comments["first"].id, comments["second"].id]
    first = data[0]
    assert first["subject"] == "Re: [PATCH v2 1/2] first change"
    assert first["web_url"] == f"http://testserver/comment/{comments['first'].id}/"
    assert first["url"] == (
        f"http://testserver/api/1.4/patches/{world['p1'].id}/comments/{comments['first'].id}/"
    )
    assert first["headers"]["Cc"] == ["a@example.org", "b@example.org"]
    assert first["submitter"]["name"] == "Rae Viewer"
    assert first["addressed"] is None
    assert api.get(f"patches/{world['p2'].id}/comments/").data == []


def test_cover_comments(api, world, comments):
    data = api.get(f"covers/{world['cover'].id}/comments/").data
    assert [c["id"] for c in data] == [comments["cover"].id]
    assert data[0]["web_url"] == f"http://testserver/comment/cover/{comments['cover'].id}/"


def test_comments_of_missing_parents_are_404(api):
    assert api.get("patches/999999/comments/").status_code == 404
    assert api.get("covers/999999/comments/").status_code == 404


def test_comment_fields_per_version(world, comments):
    path = f"patches/{world['p1'].id}/comments/"
    assert set(ApiClient("1.0").get(path).data[0]) == {
        "id",
        "msgid",
        "date",
        "subject",
        "submitter",
        "content",
        "headers",
    }
    assert "addressed" not in ApiClient("1.2").get(path).data[0]


def test_comment_detail(api, world, comments):
    comment = comments["first"]
    data = api.get(f"patches/{world['p1'].id}/comments/{comment.id}/").data
    assert data["content"] == comment.content
    # The comment must belong to the patch in the URL.
    assert api.get(f"patches/{world['p2'].id}/comments/{comment.id}/").status_code == 404
    cover_comment = comments["cover"]
    assert api.get(f"covers/{world['cover'].id}/comments/{cover_comment.id}/").data["id"] == (
        cover_comment.id
    )


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("anonymous", False),
        ("stranger", False),
        ("maintainer", True),
        ("patch-submitter", True),
        ("comment-author", True),
        ("superuser", True),
    ],
)
def test_who_may_mark_a_comment_addressed(
    who, allowed, world, comments, maintainer, submitter_user, stranger, superuser, client_for
):
    from tests.factories import make_user

    author = make_user("reviewer")
    comments["reviewer"].user = author
    comments["reviewer"].save()
    user = {
        "anonymous": None,
        "stranger": stranger,
        "maintainer": maintainer,
        "patch-submitter": submitter_user,
        "comment-author": author,
        "superuser": superuser,
    }[who]
    comment = comments["first"]
    response = client_for(user).patch(
        f"patches/{world['p1'].id}/comments/{comment.id}/", {"addressed": True}
    )
    comment.refresh_from_db()
    if allowed:
        assert response.status_code == 200 and response.data["addressed"] is True
        assert comment.addressed is True
    else:
        assert response.status_code == 403
        assert comment.addressed is None


def test_addressed_can_be_cleared_and_is_validated(world, comments, maintainer, client_for):
    client = client_for(maintainer)
    comment = comments["cover"]
    url = f"covers/{world['cover'].id}/comments/{comment.id}/"
    assert client.patch(url, {"addressed": False}).data["addressed"] is False
    assert client.patch(url, {"addressed": None}).data["addressed"] is None
    response = client.patch(url, {"addressed": "perhaps"}, validate_request=False)
    assert response.status_code == 400 and list(response.data) == ["addressed"]
    comment.refresh_from_db()
    assert comment.addressed is None


def test_comment_list_query_count_is_constant(api, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for extra in (3, 10):
        for i in range(extra):
            make_patch_comment(world["p2"], date=T0 + timedelta(minutes=len(counts) * 60 + i))
        with CaptureQueriesContext(connection) as ctx:
            listed = api.get(f"patches/{world['p2'].id}/comments/").data
        counts.append((len(listed), len(ctx.captured_queries)))
    assert [n for n, _ in counts] == [3, 13]
    assert counts[0][1] == counts[1][1] <= 4  # the patch, the count, the page
    assert PatchComment.objects.filter(patch=world["p2"]).count() == 13
