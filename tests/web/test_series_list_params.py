"""The series list answers bad paging parameters and unknown names like the patch list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_patch, make_person, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_series(project, monkeypatch):
    from apps.web.series import list as series_list_page

    monkeypatch.setattr(series_list_page, "SERIES_PER_PAGE", 3)
    for n in range(7):
        series = make_series(project, name=f"s{n}")
        make_patch(project, series=series, number=1)
    return reverse("series-list", args=[project.linkname])


def shown_with_note(client, url: str, params: dict, note: str) -> int:
    """The page number shown for params; asserts the note is on the page, alone."""
    response = client.get(url, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="page-notes"' in body and note in body, body
    assert response.context["notes"] == [note.replace("&#x27;", "'")]
    assert response.context["rows"]  # never an empty page
    return response.context["page"].number


def test_a_page_that_is_not_a_number_shows_page_1(client, seven_series):
    note = "&#x27;abc&#x27; is not a page number: showing page 1."
    assert shown_with_note(client, seven_series, {"page": "abc"}, note) == 1


def test_a_negative_page_shows_page_1(client, seven_series):
    note = "There is no page -1: showing page 1."
    assert shown_with_note(client, seven_series, {"page": "-1"}, note) == 1


def test_a_page_past_the_end_shows_the_last(client, seven_series):
    note = "There is no page 99; the last is 3: showing page 3."
    assert shown_with_note(client, seven_series, {"page": "99"}, note) == 3
    rows = client.get(seven_series, {"page": "99"}).context["rows"]
    assert [r.series.name for r in rows] == ["s0"]  # the oldest
    huge = "99999999999999999999999"
    assert "There is no page" not in client.get(seven_series, {"page": "2"}).content.decode()
    assert client.get(seven_series, {"page": huge}).context["page"].number == 1


def test_a_bad_page_size_shows_the_usual_one(client, seven_series):
    note = "&#x27;abc&#x27; is not a number of series a page can show (1 to 500): showing 3 a page."
    assert shown_with_note(client, seven_series, {"per_page": "abc"}, note) == 1
    assert len(client.get(seven_series, {"per_page": "abc"}).context["rows"]) == 3
    assert client.get(seven_series, {"per_page": "0"}).context["notes"]


def test_a_page_size_asked_for_is_used_and_kept_in_the_links(client, seven_series):
    response = client.get(seven_series, {"per_page": "2", "page": "2"})
    assert response.context["notes"] == []
    assert len(response.context["rows"]) == 2
    body = response.content.decode()
    assert 'href="?q=&amp;per_page=2&amp;page=3" rel="next"' in body
    assert 'href="?q=&amp;per_page=2&amp;page=1" rel="prev"' in body


def test_unknown_delegate_or_submitter_in_the_search_says_so(client, project, maintainer):
    series = make_series(project, name="frob")
    make_patch(project, series=series, number=1, submitter=make_person("ada@example.org"))
    url = reverse("series-list", args=[project.linkname])
    notes = client.get(url, {"q": "delegate:ghost from:nobody@example.org"}).context["notes"]
    assert notes == [
        "No user matches the delegate 'ghost'.",
        "No submitter matches 'nobody@example.org'.",
    ]
    body = client.get(url, {"q": "from:Zebedee"}).content.decode()
    assert "No submitter matches &#x27;Zebedee&#x27;." in body
    # Names that exist, 'none' and negated terms are no news.
    query = f"delegate:{maintainer.username} from:ada@example.org delegate:none -from:ghost"
    response = client.get(url, {"q": query})
    assert response.context["notes"] == []
