"""GET /patches/ and /patches/{id}/: representations and every filter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.checks.models import Check
from apps.patches.models import PatchTag
from apps.projects.models import Tag
from tests.api.client import ApiClient
from tests.api.conftest import T0, api_patch
from tests.factories import make_check, make_patch_comment, make_user

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response
    return [item["id"] for item in response.data]


def test_list_shows_summaries_in_id_order(api, world):
    response = api.get("patches/")
    assert ids(response) == [p.id for p in world["patches"]]
    first = response.data[0]
    p1 = world["p1"]
    assert first["url"] == f"http://testserver/api/1.4/patches/{p1.id}/"
    assert first["web_url"] == "http://testserver/project/demo/patch/p1@example.com/"
    assert first["mbox"] == "http://testserver/project/demo/patch/p1@example.com/mbox/"
    assert first["msgid"] == "<p1@example.com>"
    assert first["date"] == "2024-03-01T12:01:00"
    assert first["state"] == "new" and first["archived"] is False
    assert first["submitter"]["email"] == "submitter@example.com"
    assert first["series"][0]["id"] == world["series"].id
    assert first["series"][0]["web_url"] == f"http://testserver/series/{world['series'].id}/"
    assert first["comments"] == f"http://testserver/api/1.4/patches/{p1.id}/comments/"
    assert first["checks"] == f"http://testserver/api/1.4/patches/{p1.id}/checks/"
    assert first["check"] == "pending"
    assert first["list_archive_url"] is None
    assert "diff" not in first and "content" not in first and "headers" not in first


def test_detail_adds_headers_content_diff_and_prefixes(api, world):
    p1 = world["p1"]
    data = api.get(f"patches/{p1.id}/").data
    assert data["content"] == p1.content
    assert data["diff"] == p1.diff
    assert data["prefixes"] == ["v2", "1/2"]
    # A repeated header becomes a list; a single one stays a string.
    assert data["headers"]["Received"] == ["from a", "from b"]
    assert data["headers"]["Message-Id"] == "<p1@example.com>"


def test_missing_and_malformed_ids_are_404(api, world):
    for path in ("patches/999999/", "patches/abc/", "patches/0/"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.data == {"detail": "Not found."}


def test_list_archive_url_follows_the_project_format(api, world):
    project = world["project"]
    project.list_archive_url_format = "https://lore.example.org/r/{}"
    project.save()
    data = api.get(f"patches/{world['p1'].id}/").data
    assert data["list_archive_url"] == "https://lore.example.org/r/p1@example.com"


def test_check_is_the_combined_state_of_the_latest_checks(api, world, maintainer):
    p1, p2 = world["p1"], world["p2"]
    bot = make_user("bot")
    make_check(p1, maintainer, state=Check.FAIL, context="build", date=T0)
    make_check(p1, maintainer, state=Check.SUCCESS, context="build", date=T0 + timedelta(hours=1))
    make_check(p1, bot, state=Check.WARNING, context="lint", date=T0)
    make_check(p2, maintainer, state=Check.SUCCESS, context="build", date=T0)
    checks = {item["id"]: item["check"] for item in api.get("patches/").data}
    # The failed build was superseded by a later success; the warning still counts.
    assert checks[p1.id] == "warning"
    assert checks[p2.id] == "success"
    assert checks[world["loose"].id] == "pending"
    assert api.get(f"patches/{p1.id}/").data["check"] == "warning"


def test_tags_show_the_counts_given(api, world):
    acked = Tag.objects.get(name="Acked-by")
    PatchTag.objects.create(patch=world["p1"], tag=acked, count=2)
    data = {item["id"]: item["tags"] for item in api.get("patches/").data}
    assert data[world["p1"].id] == {"Acked-by": "2"}
    assert data[world["p2"].id] == {}


# --- filters -------------------------------------------------------------------------------


def test_filter_by_project_id_or_linkname(api, world):
    own = [p.id for p in world["patches"][:3]]
    assert ids(api.get("patches/", {"project": "demo"})) == own
    assert ids(api.get("patches/", {"project": str(world["project"].id)})) == own
    assert ids(api.get("patches/", {"project": "other"})) == [world["elsewhere"].id]


def test_filter_values_that_name_nothing_give_an_empty_list(api, world):
    for query in (
        {"project": "nope"},
        {"submitter": "nobody@example.com"},
        {"delegate": "nobody"},
        {"state": "no-such-state"},
        {"hash": "0" * 40},
        {"msgid": "unknown@example.com"},
        {"series": "999999"},
    ):
        assert ids(api.get("patches/", query)) == [], query


def test_malformed_filter_values_are_400_with_the_field(api, world):
    for query, field in (
        ({"series": "abc"}, "series"),
        ({"archived": "maybe"}, "archived"),
        ({"since": "yesterday"}, "since"),
        ({"before": "2024-13-45"}, "before"),
    ):
        response = api.get("patches/", query, validate_request=False)
        assert response.status_code == 400, query
        assert list(response.data) == [field]


def test_filter_by_submitter_id_or_email(api, world, submitter):
    series_ids = [world["p1"].id, world["p2"].id]
    assert ids(api.get("patches/", {"submitter": str(submitter.id)})) == series_ids
    assert ids(api.get("patches/", {"submitter": "SUBMITTER@example.com"})) == series_ids


def test_filter_by_delegate_id_or_username(api, world, maintainer):
    world["loose"].delegate = maintainer
    world["loose"].save()
    assert ids(api.get("patches/", {"delegate": str(maintainer.id)})) == [world["loose"].id]
    assert ids(api.get("patches/", {"delegate": "maintainer"})) == [world["loose"].id]


def test_filter_by_state_slug_and_archived(api, world):
    from tests.api.conftest import state

    world["p2"].state = state("accepted")
    world["p2"].archived = True
    world["p2"].save()
    assert ids(api.get("patches/", {"state": "accepted"})) == [world["p2"].id]
    assert ids(api.get("patches/", {"archived": "true"})) == [world["p2"].id]
    assert world["p2"].id not in ids(api.get("patches/", {"archived": "false"}))


def test_archived_accepts_the_spellings_clients_send(api, world):
    world["p2"].archived = True
    world["p2"].save()
    # pwclient's REST backend sends yes/no; validate=False since only true/false are documented.
    for value, expected in (("yes", [world["p2"].id]), ("True", [world["p2"].id]), ("0", None)):
        response = api.get("patches/", {"archived": value}, validate_request=False)
        if expected is None:
            assert world["p2"].id not in ids(response)
        else:
            assert ids(response) == expected


def test_filter_by_series_hash_and_msgid(api, world):
    assert ids(api.get("patches/", {"series": str(world["series"].id)})) == [
        world["p1"].id,
        world["p2"].id,
    ]
    assert ids(api.get("patches/", {"hash": world["p2"].hash.upper()})) == [world["p2"].id]
    assert ids(api.get("patches/", {"msgid": "p2@example.com"})) == [world["p2"].id]
    # Angle brackets are tolerated too.
    assert ids(api.get("patches/", {"msgid": "<p2@example.com>"})) == [world["p2"].id]


def test_hash_and_msgid_filters_are_ignored_before_1_2(world):
    client = ApiClient("1.1")
    response = client.get("patches/", {"msgid": "p2@example.com"}, validate_request=False)
    assert len(ids(response)) == 4


def test_since_and_before(api, world):
    response = api.get(
        "patches/", {"since": "2024-03-01T12:02:00", "before": "2024-03-01T12:04:00"}
    )
    assert ids(response) == [world["p2"].id, world["loose"].id]
    # A date alone is midnight UTC; an explicit offset is honoured.
    assert len(ids(api.get("patches/", {"since": "2024-03-02"}))) == 0
    assert len(ids(api.get("patches/", {"since": "2024-03-01T13:02:00+01:00"}))) == 3


def test_filters_repeat_with_or_semantics_from_1_1(world):
    query = [("project", "demo"), ("project", "other")]
    assert len(ids(ApiClient("1.1").get("patches/", query))) == 4
    # API 1.0 used only the last value.
    assert ids(ApiClient("1.0").get("patches/", query)) == [world["elsewhere"].id]


def test_search_matches_every_term_in_the_name(api, world):
    assert ids(api.get("patches/", {"q": "change"})) == [world["p1"].id, world["p2"].id]
    assert ids(api.get("patches/", {"q": "second change"})) == [world["p2"].id]
    assert ids(api.get("patches/", {"q": "LOOSE"})) == [world["loose"].id]


def test_order_by_any_listed_field(api, world):
    by_date_desc = ids(api.get("patches/", {"order": "-date"}))
    assert by_date_desc == [p.id for p in reversed(world["patches"])]
    by_name = ids(api.get("patches/", {"order": "name"}))
    names = sorted(world["patches"], key=lambda p: p.name)
    assert by_name == [p.id for p in names]
    # Unknown fields are ignored: the default order applies.
    assert ids(api.get("patches/", {"order": "bogus"})) == [p.id for p in world["patches"]]


def test_unknown_query_parameters_are_ignored(api, world):
    response = api.get("patches/", {"frobnicate": "1"}, validate_request=False)
    assert len(ids(response)) == 4


def test_related_patches_are_shown_from_1_2(world, maintainer, client_for):
    from apps.patches.services import patch_update

    patch_update(patch=world["p1"], actor=maintainer, related=[world["loose"]])
    data = client_for(maintainer).get(f"patches/{world['p1'].id}/").data
    assert [p["id"] for p in data["related"]] == [world["loose"].id]
    listed = {p["id"]: p for p in client_for(maintainer).get("patches/").data}
    assert [p["id"] for p in listed[world["loose"].id]["related"]] == [world["p1"].id]
    assert listed[world["p2"].id]["related"] == []


def test_a_pull_request_without_diff(api, world):
    pull = api_patch(
        world["project"],
        n=9,
        name="[GIT,PULL] fixes",
        diff=None,
        hash=None,
        pull_url="git://git.example.org/frob.git tags/v1",
    )
    data = api.get(f"patches/{pull.id}/").data
    assert data["diff"] is None and data["hash"] is None
    assert data["pull_url"] == "git://git.example.org/frob.git tags/v1"
    assert data["prefixes"] == ["GIT", "PULL"]


def test_comments_do_not_change_the_patch_representation(api, world):
    make_patch_comment(world["p1"], content="Acked-by: Someone <s@example.org>")
    assert api.get(f"patches/{world['p1'].id}/").status_code == 200
