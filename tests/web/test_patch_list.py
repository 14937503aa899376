"""The patch list: columns, filters, sorting, pagination, everything in the URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.patches.models import PatchTag
from apps.projects.models import Tag
from tests.factories import (
    default_state,
    make_check,
    make_patch,
    make_person,
    make_series,
    make_user,
)
from tests.web.conftest import htmx_headers

pytestmark = pytest.mark.django_db

LIST = "/project/demo/list/"


def names(response) -> list[str]:
    return [p.name for p in response.context["page"].items]


def test_default_view_shows_action_required_unarchived(client, project):
    new = make_patch(project, name="new one")
    make_patch(project, name="accepted one", state=default_state("accepted"))
    make_patch(project, name="archived one", archived=True)
    response = client.get(LIST)
    assert response.status_code == 200
    assert names(response) == [new.name]
    assert f'id="patch-row-{new.pk}"' in response.content.decode()


def test_row_shows_every_column(client, project, maintainer, submitter):
    series = make_series(project, name="My series")
    patch = make_patch(
        project,
        name="[PATCH] <script>alert(1)</script>",
        submitter=submitter,
        delegate=maintainer,
        series=series,
        state=default_state("under-review"),
    )
    acked = Tag.objects.get(abbrev="A")
    PatchTag.objects.create(patch=patch, tag=acked, count=2)
    ci = make_user("ci")
    make_check(patch, ci, state="success", context="build")
    make_check(patch, ci, state="fail", context="test")
    body = client.get(LIST).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert "Sam Submitter" in body
    assert ">maintainer<" in body
    assert "My series" in body
    assert 'title="Acked-by: 2"' in body
    assert (
        '<span class="c-success">1</span>/<span class="c-warning">0</span>/<span class="c-fail">1</span>'
        in body
    )
    assert "Under Review" in body


def test_tag_columns_hidden_when_project_does_not_use_tags(client, project):
    project.use_tags = False
    project.save()
    make_patch(project)
    body = client.get(LIST).content.decode()
    assert '<abbr title="Acked-by">' not in body


def test_ids_column_follows_user_setting(client, project):
    patch = make_patch(project)
    user = make_user("idfan", show_ids=True)
    client.force_login(user)
    body = client.get(LIST).content.decode()
    assert f'<td class="col-id num">{patch.pk}</td>' in body


@pytest.mark.parametrize(
    "query,expected",
    [
        ("state=*", {"new", "accepted", "rejected"}),
        ("state=accepted", {"accepted"}),
        ("state=accepted&state=rejected", {"accepted", "rejected"}),
        ("state=*&archive=true", {"old"}),
        ("state=*&archive=both", {"new", "accepted", "rejected", "old"}),
        ("q=accep", set()),  # default: action required only
        ("state=*&q=reje", {"rejected"}),
    ],
)
def test_state_archive_and_search_filters(client, project, query, expected):
    make_patch(project, name="new")
    make_patch(project, name="accepted", state=default_state("accepted"))
    make_patch(project, name="rejected", state=default_state("rejected"))
    make_patch(project, name="old", state=default_state("accepted"), archived=True)
    response = client.get(f"{LIST}?{query}")
    assert set(names(response)) == expected


def test_submitter_filter_by_id_address_and_text(client, project):
    alice = make_person("alice@example.com", name="Alice Liddell")
    bob = make_person("bob@example.com", name="Bob")
    make_patch(project, name="from alice", submitter=alice)
    make_patch(project, name="from bob", submitter=bob)
    for value in [str(alice.pk), "Alice Liddell <alice@example.com>", "ALICE@example.com", "lidd"]:
        response = client.get(LIST, {"submitter": value})
        assert names(response) == ["from alice"], value


def test_delegate_filter(client, project, maintainer):
    make_patch(project, name="delegated", delegate=maintainer)
    make_patch(project, name="nobody's")
    assert names(client.get(LIST, {"delegate": "maintainer"})) == ["delegated"]
    assert names(client.get(LIST, {"delegate": str(maintainer.pk)})) == ["delegated"]
    assert names(client.get(LIST, {"delegate": "none"})) == ["nobody's"]


def test_series_filter(client, project):
    series = make_series(project)
    make_patch(project, name="in series", series=series)
    make_patch(project, name="alone")
    assert names(client.get(LIST, {"series": series.pk})) == ["in series"]


def test_bad_filters_say_so_and_show_nothing(client, project):
    make_patch(project)
    response = client.get(LIST, {"state": "bogus", "series": "abc", "order": "secret"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Unknown state &#x27;bogus&#x27;." in body
    assert "Series must be a number" in body
    assert "Can&#x27;t sort by &#x27;secret&#x27;." in body
    assert names(response) == []


def test_an_unknown_submitter_says_so(client, project):
    make_patch(project, submitter=make_person("alice@example.com", name="Alice"))
    for value in ["Zebedee", "nobody@example.com", "99999"]:
        response = client.get(LIST, {"submitter": value})
        assert f"No submitter matches &#x27;{value}&#x27;." in response.content.decode(), value
        assert names(response) == []
    assert "No submitter" not in client.get(LIST, {"submitter": "ali"}).content.decode()


def test_an_unknown_delegate_says_so(client, project, maintainer):
    make_patch(project, delegate=maintainer)
    for value in ["zebedee", "99999"]:
        response = client.get(LIST, {"delegate": value})
        assert f"No user matches the delegate &#x27;{value}&#x27;." in response.content.decode()
        assert names(response) == []
    for known in ["maintainer", "none"]:
        assert "No user matches" not in client.get(LIST, {"delegate": known}).content.decode()


def test_an_unknown_delegate_or_submitter_in_the_search_says_so(client, project, maintainer):
    make_patch(project, delegate=maintainer)
    response = client.get(LIST, {"q": "delegate:zebedee from:nobody@example.com"})
    body = response.content.decode()
    assert "No user matches the delegate &#x27;zebedee&#x27;." in body
    assert "No submitter matches &#x27;nobody@example.com&#x27;." in body
    assert names(response) == []
    body = client.get(LIST, {"q": "delegate:maintainer -from:zebedee"}).content.decode()
    assert "No user matches" not in body and "No submitter" not in body


# --- the search box's own terms take over the matching menus ---------------------------


def test_a_state_term_in_the_search_takes_over_the_state_menu(client, project):
    make_patch(project, name="frob accepted", state=default_state("accepted"))
    make_patch(project, name="frob new")
    # The menu's default (action required) would hide every accepted patch.
    response = client.get(LIST, {"q": "frob state:accepted"})
    assert names(response) == ["frob accepted"]
    body = response.content.decode()
    assert "The search sets the state filter: its menu is set aside." in body
    assert '<select id="filter-state" name="state" disabled' in body
    assert "needing action" not in body
    # Asked for in the menu too: the search still decides, and the links drop the menu's.
    response = client.get(LIST, {"q": "frob state:accepted", "state": "new", "order": "name"})
    assert names(response) == ["frob accepted"]
    assert "state=" not in response.context["sort"]["name"]["url"]


def test_is_archived_in_the_search_takes_over_the_archived_menu(client, project):
    make_patch(project, name="old", archived=True)
    make_patch(project, name="current")
    response = client.get(LIST, {"q": "is:archived"})
    assert names(response) == ["old"]
    body = response.content.decode()
    assert '<select id="filter-archive" name="archive" disabled' in body
    assert "The search sets the archived filter" in body
    assert names(client.get(LIST, {"q": "-is:archived", "archive": "true"})) == ["current"]


def test_delegate_and_from_terms_take_over_their_fields(client, project, maintainer):
    other = make_user("other")
    project.maintainers.add(other)
    alice = make_person("alice@example.com", name="Alice")
    make_patch(project, name="mine", delegate=maintainer, submitter=alice)
    make_patch(project, name="theirs", delegate=other)
    response = client.get(LIST, {"q": "delegate:maintainer from:alice", "delegate": "other"})
    assert names(response) == ["mine"]
    body = response.content.decode()
    assert "The search sets the delegate and submitter filters: their menus are set aside." in body
    assert 'id="filter-delegate" name="delegate" value="" disabled' in body


def test_a_search_without_filter_terms_leaves_the_menus_alone(client, project):
    make_patch(project, name="frob accepted", state=default_state("accepted"))
    response = client.get(LIST, {"q": "frob"})
    assert names(response) == []  # the default menu still applies: action required
    assert 'id="search-owns"' not in response.content.decode()


def test_sorting_by_columns_and_direction(client, project):
    now = timezone.now()
    b = make_patch(
        project, name="b", date=now - timedelta(days=1), submitter=make_person(name="Zed")
    )
    a = make_patch(project, name="a", date=now, submitter=make_person(name="Amy"))
    c = make_patch(
        project, name="c", date=now - timedelta(days=2), submitter=make_person(name="Max")
    )
    assert names(client.get(LIST)) == ["a", "b", "c"]  # newest first by default
    assert names(client.get(LIST, {"order": "date"})) == ["c", "b", "a"]
    assert names(client.get(LIST, {"order": "name"})) == ["a", "b", "c"]
    assert names(client.get(LIST, {"order": "-name"})) == ["c", "b", "a"]
    assert names(client.get(LIST, {"order": "submitter"})) == ["a", "c", "b"]
    assert names(client.get(LIST, {"order": "id"})) == [
        p.name for p in sorted([a, b, c], key=lambda p: p.pk)
    ]
    # The header link of the current sort column flips its direction, keeping the filters.
    response = client.get(LIST, {"order": "name", "q": "x"})
    assert response.context["sort"]["name"]["url"] == "?q=x&order=-name"
    assert 'aria-sort="ascending"' in response.content.decode()


def test_pagination_uses_user_items_per_page_and_keeps_filters(client, project):
    for i in range(7):
        make_patch(project, name=f"p{i}")
    user = make_user("pager", items_per_page=3)
    client.force_login(user)
    response = client.get(LIST, {"q": "p", "page": 2})
    assert len(response.context["page"].items) == 3
    assert response.context["page"].total == 7
    assert response.context["page_urls"]["next"] == "?q=p&page=3"
    assert response.context["page_urls"]["previous"] == "?q=p&page=1"
    assert (response.context["page"].start_index, response.context["page"].end_index) == (4, 6)
    last = client.get(LIST, {"q": "p", "page": 3})
    assert len(last.context["page"].items) == 1
    assert last.context["page"].notes == []


# --- bad paging parameters: a note saying what was wrong, and the nearest valid page ---


@pytest.fixture
def seven_patches(client, project):
    patches = [make_patch(project, name=f"p{i}") for i in range(7)]
    client.force_login(make_user("pager", items_per_page=3))
    return patches


def shown_with_note(client, params: dict, note: str) -> int:
    """The page number shown for params; asserts the note is on the page and nothing else."""
    response = client.get(LIST, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="page-notes"' in body and note in body, body
    page = response.context["page"]
    assert page.notes == [note.replace("&#x27;", "'")]
    assert page.items  # never an empty page
    return page.number


def test_a_page_that_is_not_a_number_shows_page_1(client, seven_patches):
    note = "&#x27;abc&#x27; is not a page number: showing page 1."
    assert shown_with_note(client, {"page": "abc"}, note) == 1


def test_a_negative_page_shows_page_1(client, seven_patches):
    assert shown_with_note(client, {"page": "-1"}, "There is no page -1: showing page 1.") == 1


def test_a_page_past_the_end_shows_the_last(client, seven_patches):
    note = "There is no page 99; the last is 3: showing page 3."
    assert shown_with_note(client, {"page": "99"}, note) == 3
    response = client.get(LIST, {"page": 99})
    assert [p.name for p in response.context["page"].items] == ["p0"]  # the oldest


def test_a_bad_page_size_shows_the_usual_one(client, seven_patches):
    note = (
        "&#x27;abc&#x27; is not a number of patches a page can show (1 to 500): showing 3 a page."
    )
    assert shown_with_note(client, {"per_page": "abc"}, note) == 1
    assert len(client.get(LIST, {"per_page": "abc"}).context["page"].items) == 3
    assert client.get(LIST, {"per_page": "0"}).context["page"].notes


def test_a_page_size_asked_for_is_used_and_kept_in_the_links(client, seven_patches):
    response = client.get(LIST, {"per_page": "2", "page": "2"})
    assert response.context["page"].notes == []
    assert len(response.context["page"].items) == 2
    assert response.context["page_urls"]["next"] == "?page=3&per_page=2"


def test_count_stops_at_the_limit(client, project, monkeypatch):
    from apps.web.patches import list as list_views

    monkeypatch.setattr(list_views, "COUNT_LIMIT", 4)
    for _ in range(6):
        make_patch(project)
    user = make_user("pager", items_per_page=2)
    client.force_login(user)
    response = client.get(LIST)
    assert not response.context["page"].exact
    assert "of more than 4" in response.content.decode()


@pytest.mark.parametrize("persona", ["anonymous", "stranger", "maintainer"])
def test_list_query_count_is_bounded(
    client, project, persona, request, django_assert_max_num_queries
):
    ci = make_user("ci")
    for i in range(30):
        patch = make_patch(
            project,
            series=make_series(project),
            delegate=request.getfixturevalue("maintainer") if i % 2 else None,
        )
        make_check(patch, ci)
        PatchTag.objects.create(patch=patch, tag=Tag.objects.get(abbrev="R"))
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    with django_assert_max_num_queries(14):
        response = client.get(LIST, {"state": "*"})
    assert len(response.context["page"].items) == 30


def test_htmx_filter_request_returns_only_the_results(client, project):
    make_patch(project, name="only")
    response = client.get(LIST, {"q": "only"}, **htmx_headers("patch-list-results"))
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="patch-list-results"')
    assert "<html" not in body


def test_bulk_bar_only_for_signed_in_and_triage_only_for_maintainers(
    client, project, maintainer, stranger
):
    make_patch(project)
    body = client.get(LIST).content.decode()
    assert 'id="bulk-bar"' not in body
    assert 'name="patch_id"' not in body
    client.force_login(stranger)
    body = client.get(LIST).content.decode()
    assert 'id="bulk-bar"' in body
    assert 'id="bulk-state"' not in body
    assert "Add to bundle" in body
    client.force_login(maintainer)
    body = client.get(LIST).content.decode()
    assert 'id="bulk-state"' in body
    assert '"a": "accepted"' in body  # keyboard map for state keys


def test_autocomplete_people_and_delegates(client, project, maintainer):
    make_person("alice@example.com", name="Alice <Liddell>")
    client.force_login(maintainer)
    body = client.get(reverse("autocomplete-person"), {"submitter": "alic"}).content.decode()
    assert 'value="Alice &lt;Liddell&gt; &lt;alice@example.com&gt;"' in body
    assert (
        client.get(reverse("autocomplete-person"), {"submitter": "a"}).content.decode().strip()
        == ""
    )
    make_user("maintenance-bot")  # not a maintainer: never offered
    body = client.get(reverse("autocomplete-delegate"), {"delegate": "maint"}).content.decode()
    assert 'value="maintainer"' in body
    assert "maintenance-bot" not in body


def test_unknown_project_list_is_404(client, db):
    assert client.get("/project/nope/list/").status_code == 404


@pytest.mark.parametrize(
    "msgid", ["<a/b@example.com>", "<x?y#z%20@host>", "<weird <>&\"' id@host>", "<ünï@höst>"]
)
def test_row_links_match_the_patch_url(project, msgid):
    from apps.web.patches.rows import patch_url_builder

    patch = make_patch(project, msgid=msgid)
    assert patch_url_builder()(patch) == reverse("patch-detail", args=["demo", patch.url_msgid])
