"""The series list and series-wide actions: one step, the usual per-patch events."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.events.models import Event
from apps.patches.models import Patch
from tests.factories import make_check, make_patch, make_person, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_series(project, maintainer):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    first = make_series(project, submitter=ada, name="Fix the frobnicator", total=3, version=2)
    for n in (1, 2):
        make_patch(project, series=first, number=n, submitter=ada, name=f"[v2,{n}/3] frob {n}")
    make_check(first.patches.first(), maintainer, state="fail")
    other = make_series(project, name="Tidy the docs", total=1)
    make_patch(project, series=other, number=1, name="[1/1] docs")
    return first, other


def test_series_list_shows_progress_states_and_checks(client, project, two_series):
    url = reverse("series-list", args=[project.linkname])
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Fix the frobnicator" in body and "Tidy the docs" in body
    assert "2/3" in body and "v2" in body and "2 New" in body
    assert "fail" in body
    assert "Apply to series" not in body  # anonymous visitors do not triage


def test_series_list_query_count_is_bounded(client, project, two_series, maintainer):
    for n in range(5):
        series = make_series(project, name=f"more {n}")
        make_patch(project, series=series, number=1)
    client.force_login(maintainer)
    url = reverse("series-list", args=[project.linkname])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    few = len(queries)
    for n in range(10):
        series = make_series(project, name=f"even more {n}")
        make_patch(project, series=series, number=1)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == few


def test_series_list_filters_with_the_search_language(client, project, two_series):
    url = reverse("series-list", args=[project.linkname])
    body = client.get(url, {"q": "from:ada@example.org"}).content.decode()
    assert "Fix the frobnicator" in body and "Tidy the docs" not in body
    body = client.get(url, {"q": "colour:red"}).content.decode()
    assert "Unknown search operator" in body and "Tidy the docs" not in body


def test_maintainer_sets_state_and_archives_a_whole_series(client, project, two_series, maintainer):
    first, other = two_series
    client.force_login(maintainer)
    response = client.post(
        reverse("series-action", args=[first.pk]),
        {"state": "accepted", "delegate": maintainer.username, "archived": "true"},
    )
    assert response.status_code == 302
    patches = list(first.patches.select_related("state"))
    assert {(p.state.slug, p.delegate_id, p.archived) for p in patches} == {
        ("accepted", maintainer.pk, True)
    }
    assert Patch.objects.get(series=other).state.slug == "new"
    changed = Event.objects.filter(category=Event.PATCH_STATE_CHANGED, actor=maintainer)
    assert sorted(changed.values_list("patch_id", flat=True)) == sorted(p.pk for p in patches)
    assert Event.objects.filter(category=Event.PATCH_DELEGATED).count() == 2


def test_strangers_cannot_triage_a_series(client, project, two_series, stranger):
    first, _ = two_series
    client.force_login(stranger)
    response = client.post(reverse("series-action", args=[first.pk]), {"state": "accepted"})
    assert response.status_code == 403
    assert set(first.patches.values_list("state__slug", flat=True)) == {"new"}
    assert not Event.objects.filter(category=Event.PATCH_STATE_CHANGED).exists()


def test_bad_action_changes_nothing(client, project, two_series, maintainer):
    first, _ = two_series
    client.force_login(maintainer)
    assert client.post(reverse("series-action", args=[first.pk]), {}).status_code == 302
    response = client.post(reverse("series-action", args=[first.pk]), {"state": "bogus"})
    assert response.status_code == 404
    assert set(first.patches.values_list("state__slug", flat=True)) == {"new"}
