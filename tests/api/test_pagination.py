"""Pagination: page, per_page (default and cap), the Link header, out-of-range pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import api_patch

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(project):
    return [api_patch(project, n=i, name=f"patch {i:02d}") for i in range(7)]


def test_default_page_size_comes_from_settings(api, many, settings):
    settings.REST_RESULTS_PER_PAGE = 3
    response = api.get("patches/")
    assert [p["id"] for p in response.data] == [p.id for p in many[:3]]


def test_per_page_is_capped(api, many, settings):
    settings.MAX_REST_RESULTS_PER_PAGE = 4
    assert len(api.get("patches/", {"per_page": 100}).data) == 4


def test_invalid_per_page_falls_back_to_the_default(api, many, settings):
    settings.REST_RESULTS_PER_PAGE = 2
    for value in ("0", "-1", "lots"):
        response = api.get("patches/", {"per_page": value}, validate_request=False)
        assert len(response.data) == 2, value


def test_link_header_has_next_prev_first_last(api, many):
    response = api.get("patches/", {"per_page": 2, "page": 2, "state": "new"})
    assert [p["id"] for p in response.data] == [many[2].id, many[3].id]
    links = response.link
    base = "http://testserver/api/1.4/patches/"
    assert links == {
        "next": f"{base}?per_page=2&state=new&page=3",
        "prev": f"{base}?per_page=2&state=new",
        "first": f"{base}?per_page=2&state=new",
        "last": f"{base}?per_page=2&state=new&page=4",
    }
    # pwclient follows only a header whose first entry is the next page.
    assert response.headers["Link"].startswith(f"<{base}?per_page=2&state=new&page=3>; ")


def test_first_and_last_pages(api, many):
    first = api.get("patches/", {"per_page": 3})
    assert set(first.link) == {"next", "first", "last"}
    last = api.get("patches/", {"per_page": 3, "page": 3})
    assert set(last.link) == {"prev", "first", "last"}
    assert [p["id"] for p in last.data] == [many[6].id]
    single = api.get("patches/", {"per_page": 10})
    assert "Link" not in single.headers


def test_following_next_visits_everything_once(api, many):
    seen, url, hops = [], "patches/?per_page=2", 0
    while url and hops < 10:
        response = api.get(url)
        seen += [p["id"] for p in response.data]
        url = response.link.get("next")
        hops += 1
    assert seen == [p.id for p in many]


def test_pages_out_of_range_are_404(api, many):
    for page in ("5", "0", "-1", "abc"):
        response = api.get("patches/", {"per_page": 2, "page": page}, validate_request=False)
        assert response.status_code == 404, page
        assert response.data == {"detail": "Invalid page."}


def test_an_empty_list_is_one_empty_page(api, project):
    response = api.get("patches/")
    assert response.status_code == 200 and response.data == []
    assert api.get("patches/", {"page": 2}).status_code == 404


def test_pagination_applies_to_every_list(api, world, maintainer, client_for, settings):
    settings.REST_RESULTS_PER_PAGE = 1
    client = client_for(maintainer)
    for path in ("projects/", "people/", "users/", "covers/", "series/", "events/"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) <= 1, path
