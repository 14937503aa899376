"""The search language: free words, each operator, negation, errors, REST and the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.patches import search
from apps.patches.models import Patch
from apps.patches.search import SearchError, parse_query, patch_search
from tests.factories import default_state, make_check, make_patch, make_person, make_series

pytestmark = pytest.mark.django_db

FROB_DIFF = """\
diff --git a/src/frob.c b/src/frob.c
index 1111111..2222222 100644
--- a/src/frob.c
+++ b/src/frob.c
@@ -1 +1,2 @@
 int frob;
+int widget;
"""
DOCS_DIFF = FROB_DIFF.replace("src/frob.c", "docs/manual.txt")


@pytest.fixture
def corpus(project, maintainer):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    bob = make_person("bob@example.org", name="Bob Builder")
    series = make_series(project, submitter=ada)
    when = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    patches = {
        "frob": make_patch(
            project,
            name="[1/2] frob: fix negative input",
            content="Mirror negative values instead of wrapping.",
            diff=FROB_DIFF,
            submitter=ada,
            series=series,
            date=when,
        ),
        "docs": make_patch(
            project,
            name="[2/2] docs: explain the manual",
            content="The quokka section was missing.",
            diff=DOCS_DIFF,
            submitter=ada,
            series=series,
            date=when + dt.timedelta(days=10),
            delegate=maintainer,
        ),
        "bob": make_patch(
            project,
            name="build: speed up",
            content="Parallel builds.",
            diff=FROB_DIFF.replace("src/frob.c", "Makefile"),
            submitter=bob,
            state=default_state("accepted"),
            archived=True,
            date=when + dt.timedelta(days=20),
        ),
    }
    make_check(patches["frob"], maintainer, state="fail", context="ci")
    make_check(patches["docs"], maintainer, state="fail", context="ci")
    make_check(patches["docs"], maintainer, state="success", context="ci")
    return patches


def found(query: str) -> set[str]:
    names = {p.pk: key for key, p in CORPUS.items()}
    return {
        names[pk] for pk in patch_search(Patch.objects.all(), query).values_list("pk", flat=True)
    }


CORPUS: dict[str, Patch] = {}


@pytest.fixture(autouse=True)
def _corpus(corpus):
    CORPUS.clear()
    CORPUS.update(corpus)
    yield
    CORPUS.clear()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("negative", {"frob"}),  # name and commit message
        ("quokka", {"docs"}),  # commit message only
        ("Lovelace", {"frob", "docs"}),  # submitter
        ("manual.txt", {"docs"}),  # a path the diff touches
        ("Makefile", {"bob"}),
        ("widget", set()),  # diff content beyond the paths does not match
        ('"fix negative"', {"frob"}),
        ("frob quokka", set()),  # every word must match
        ("state:accepted", {"bob"}),
        ("state:new,accepted", {"frob", "docs", "bob"}),
        ("-state:accepted", {"frob", "docs"}),
        ("from:bob@example.org", {"bob"}),
        ("from:ada", {"frob", "docs"}),
        ("delegate:none", {"frob", "bob"}),
        ("path:src/", {"frob"}),
        ("path:docs/manual.txt", {"docs"}),
        ("is:archived", {"bob"}),
        ("-is:archived", {"frob", "docs"}),
        ("is:action-required", {"frob", "docs"}),
        ("has:failed-checks", {"frob"}),  # docs' failure was fixed by a later success
        ("since:2024-03-05", {"docs", "bob"}),
        ("before:2024-03-05", {"frob"}),
        ("since:2024-03-05 before:2024-03-15 Lovelace", {"docs"}),
    ],
)
def test_operators(query, expected):
    assert found(query) == expected


@pytest.mark.parametrize("query", ["negative", "quokka", "Lovelace", "manual.txt", "-Lovelace"])
def test_a_word_matching_many_patches_finds_the_same(query, monkeypatch):
    """Past IDS_FIRST matches a word's ids are not collected first: same results."""
    expected = found(query)
    monkeypatch.setattr(search, "IDS_FIRST", 0)
    assert found(query) == expected


def test_delegate_and_series(maintainer):
    assert found(f"delegate:{maintainer.username}") == {"docs"}
    assert found(f"series:{CORPUS['frob'].series_id}") == {"frob", "docs"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced', "Unbalanced quotes"),
        ("colour:red", "Unknown search operator 'colour:'"),
        ("state:", "'state:' needs a value"),
        ("state:bogus", "Unknown state 'bogus'"),
        ("series:abc", "needs a series number"),
        ("is:cool", "'is:cool' is unknown"),
        ("has:bugs", "'has:bugs' is unknown"),
        ("since:yesterday", "is not a date"),
        (" ".join(["w"] * 13), "Too many search terms"),
    ],
)
def test_errors_say_what_is_wrong(query, message):
    with pytest.raises(SearchError, match=message):
        patch_search(Patch.objects.all(), query)


def test_quoted_colon_is_a_word():
    assert [t.key for t in parse_query('"http://example.org"')] == [""]


def test_rest_q_uses_the_language_and_answers_400(client, django_assert_max_num_queries):
    url = "/api/1.4/patches/"
    with django_assert_max_num_queries(12):
        response = client.get(url, {"q": "quokka"})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [CORPUS["docs"].pk]
    response = client.get(url, {"q": "path:src/ -is:archived"})
    assert [p["id"] for p in response.json()] == [CORPUS["frob"].pk]
    response = client.get(url, {"q": "colour:red"})
    assert response.status_code == 400
    assert "Unknown search operator 'colour:'" in response.json()["q"][0]


def test_patch_list_page_searches_and_shows_errors(client, project, django_assert_max_num_queries):
    url = reverse("patch-list", args=[project.linkname])
    with django_assert_max_num_queries(25):
        response = client.get(url, {"q": "quokka", "state": "*", "archive": "both"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "docs: explain the manual" in body and "frob: fix negative input" not in body
    response = client.get(url, {"q": "since:yesterday"})
    assert response.status_code == 200
    assert "is not a date" in response.content.decode()
    assert "frob: fix negative input" not in response.content.decode()
