"""Revisions in the REST API (additive fields of the latest version) and the series `q`."""

from __future__ import annotations

import pytest

from tests.api.client import ApiClient
from tests.factories import make_patch, make_person, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def rerolled(project):
    """v1 rerolled by v2, which a partial v3 rerolls again; plus an unrelated series."""
    ada = make_person("ada@example.org", name="Ada Lovelace")
    v1 = make_series(project, submitter=ada, name="Fix the frobnicator", version=1)
    v2 = make_series(project, submitter=ada, name="Fix the frobnicator", version=2)
    v3 = make_series(project, submitter=ada, name="Fix the frobnicator", version=3)
    v2.previous_revision = v1
    v2.save()
    v3.previous_revision = v2
    v3.save()
    other = make_series(project, name="Tidy the docs")
    patches = {
        s.pk: make_patch(project, series=s, number=1, submitter=ada, name=f"[v{s.version}] frob")
        for s in (v1, v2, v3)
    }
    patches[other.pk] = make_patch(project, series=other, number=1, name="[1/1] quokka docs")
    return v1, v2, v3, other, patches


def series_url(version: str, pk: int) -> str:
    return f"http://testserver/api/{version}series/{pk}/"


@pytest.mark.parametrize("version", ["1.4", None])
def test_series_link_previous_and_next_revisions(rerolled, version):
    v1, v2, v3, other, _ = rerolled
    api = ApiClient(version)
    base = f"{version}/" if version else ""
    got = api.get(f"series/{v2.pk}/").json()
    assert got["previous_revision"] == series_url(base, v1.pk)
    assert got["next_revisions"] == [series_url(base, v3.pk)]
    first = api.get(f"series/{v1.pk}/").json()
    assert first["previous_revision"] is None
    assert first["next_revisions"] == [series_url(base, v2.pk)]
    listed = {s["id"]: s for s in api.get("series/").json()}
    assert listed[v3.pk]["previous_revision"] == series_url(base, v2.pk)
    assert listed[v3.pk]["next_revisions"] == []
    assert listed[other.pk]["previous_revision"] is None


def test_patches_link_the_next_revisions_of_their_series(rerolled):
    v1, v2, v3, other, patches = rerolled
    api = ApiClient("1.4")
    got = api.get(f"patches/{patches[v1.pk].pk}/").json()
    assert got["next_revisions"] == [series_url("1.4/", v2.pk)]
    listed = {p["id"]: p for p in api.get("patches/").json()}
    assert listed[patches[v2.pk].pk]["next_revisions"] == [series_url("1.4/", v3.pk)]
    assert listed[patches[v3.pk].pk]["next_revisions"] == []
    assert listed[patches[other.pk].pk]["next_revisions"] == []


@pytest.mark.parametrize("version", ["1.0", "1.3"])
def test_earlier_versions_do_not_carry_the_additions(rerolled, version):
    v1, *_ = rerolled
    # The client checks every object has exactly its version's fields; be explicit too.
    series = ApiClient(version).get(f"series/{v1.pk}/").json()
    assert "previous_revision" not in series and "next_revisions" not in series
    patch = ApiClient(version).get("patches/").json()[0]
    assert "next_revisions" not in patch


def test_revision_links_cost_a_fixed_number_of_queries(
    project, rerolled, django_assert_max_num_queries
):
    api = ApiClient("1.4")
    with django_assert_max_num_queries(100) as small:
        api.get("series/")
    with django_assert_max_num_queries(100) as small_patches:
        api.get("patches/")
    ada = rerolled[0].submitter
    previous = rerolled[2]
    for n in range(4, 12):
        later = make_series(project, submitter=ada, name="Fix the frobnicator", version=n)
        later.previous_revision = previous
        later.save()
        make_series(project, name=f"sibling {n}", previous_revision=previous)
        make_patch(project, series=later, number=1, submitter=ada)
        previous = later
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get("series/").json()) > 10
    with django_assert_max_num_queries(len(small_patches.captured_queries)):
        assert len(api.get("patches/").json()) > 10


def test_series_q_takes_the_search_language(rerolled):
    v1, v2, v3, other, _ = rerolled
    api = ApiClient("1.4")

    def ids(query: str) -> set[int]:
        return {s["id"] for s in api.get("series/", {"q": query}).json()}

    assert ids("quokka") == {other.pk}  # a word of one of its patches' names
    assert ids("Tidy docs") == {other.pk}  # the series' own name, as before
    assert ids("frobnicator") == {v1.pk, v2.pk, v3.pk}
    assert ids(f"from:ada@example.org -series:{v2.pk}") == {v1.pk, v3.pk}
    assert ids("is:archived") == set()


def test_series_q_error_says_what_is_wrong_and_lists_nothing(rerolled):
    api = ApiClient("1.4")
    response = api.get("series/", {"q": "colour:red"})
    assert response.status_code == 400
    assert "Unknown search operator 'colour:'" in response.json()["q"][0]
    response = api.get("series/", {"q": 'unbalanced "quote'})
    assert response.status_code == 400
    assert "Unbalanced quotes" in response.json()["q"][0]
