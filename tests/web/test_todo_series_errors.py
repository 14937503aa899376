"""To-do lists, the series page and the error pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import (
    default_state,
    make_cover,
    make_patch,
    make_project,
    make_series,
)

pytestmark = pytest.mark.django_db


def test_todo_needs_login(client, db):
    response = client.get(reverse("user-todo"))
    assert response.status_code == 302 and "/user/login/" in response["Location"]


def test_todo_lists_only_my_action_required_unarchived_patches(client, project, maintainer):
    mine = make_patch(project, name="mine", delegate=maintainer)
    make_patch(project, name="done", delegate=maintainer, state=default_state("accepted"))
    make_patch(project, name="archived", delegate=maintainer, archived=True)
    make_patch(project, name="nobody's")
    other_project = make_project("other", maintainers=[maintainer])
    make_patch(other_project, delegate=maintainer)
    client.force_login(maintainer)
    response = client.get(reverse("user-todo"))
    assert [(i["project"].linkname, i["count"]) for i in response.context["todo"]] == [
        ("demo", 1),
        ("other", 1),
    ]
    response = client.get(reverse("user-todo-project", args=["demo"]))
    assert [p.name for p in response.context["page"].items] == ["mine"]
    assert f'id="patch-row-{mine.pk}"' in response.content.decode()
    assert 'id="bulk-state"' in response.content.decode()


def test_todo_query_count(client, project, maintainer, django_assert_max_num_queries):
    for _ in range(20):
        make_patch(project, delegate=maintainer)
    client.force_login(maintainer)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("user-todo-project", args=["demo"]))
    assert len(response.context["page"].items) == 20


def test_series_page_shows_progress_cover_and_patches(
    client, project, django_assert_max_num_queries
):
    cover = make_cover(project, name="An <i>overview</i>")
    series = make_series(project, name="Widgets", total=3, cover=cover, version=2)
    for n in (2, 1):
        make_patch(project, series=series, number=n, name=f"[v2,{n}/3] widget {n}")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("series-detail", args=[series.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2/3</strong> patches received" in body
    assert "An &lt;i&gt;overview&lt;/i&gt;" in body
    assert [p.number for p in response.context["page"].items] == [1, 2]
    assert f"/series/{series.pk}/mbox/" in body
    assert client.get(reverse("series-detail", args=[999999])).status_code == 404


def test_series_page_offers_bulk_actions_to_maintainers(client, project, maintainer):
    series = make_series(project)
    make_patch(project, series=series, number=1)
    client.force_login(maintainer)
    body = client.get(reverse("series-detail", args=[series.pk])).content.decode()
    assert 'id="bulk-state"' in body


def test_friendly_404_page(client, db, settings):
    settings.DEBUG = False
    response = client.get("/project/nothing-here/")
    assert response.status_code == 404
    assert "There's nothing here" in response.content.decode()


def test_friendly_500_page(db, settings):
    settings.DEBUG = False
    from django.urls import path

    from config import urls as root_urls

    def boom(request):
        raise RuntimeError("boom")

    root_urls.urlpatterns.insert(0, path("boom-test/", boom))
    try:
        from django.urls import clear_url_caches

        clear_url_caches()
        response = Client(raise_request_exception=False).get("/boom-test/")
    finally:
        root_urls.urlpatterns.pop(0)
        clear_url_caches()
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
