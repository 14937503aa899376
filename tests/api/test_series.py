"""GET /series/ and /series/{id}/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.client import ApiClient
from tests.api.conftest import T0
from tests.factories import make_series

pytestmark = pytest.mark.django_db


def test_series_detail(api, world):
    series = world["series"]
    data = api.get(f"series/{series.id}/").data
    assert data["name"] == "a fine series" and data["version"] == 2
    assert (data["total"], data["received_total"], data["received_all"]) == (2, 2, True)
    assert [p["id"] for p in data["patches"]] == [world["p1"].id, world["p2"].id]
    assert data["cover_letter"]["id"] == world["cover"].id
    assert data["mbox"] == f"http://testserver/series/{series.id}/mbox/"
    assert data["web_url"] == f"http://testserver/series/{series.id}/"
    assert data["submitter"]["email"] == "submitter@example.com"
    assert data["dependencies"] == [] and data["dependents"] == []


def test_incomplete_series_without_cover(api, project):
    series = make_series(project, total=3)
    data = api.get(f"series/{series.id}/").data
    assert data["cover_letter"] is None
    assert (data["received_total"], data["received_all"]) == (0, False)


def test_patches_are_in_series_order(api, world):
    world["p1"].number, world["p2"].number = 2, 1
    world["p1"].save()
    world["p2"].save()
    data = api.get(f"series/{world['series'].id}/").data
    assert [p["id"] for p in data["patches"]] == [world["p2"].id, world["p1"].id]


def test_dependencies_from_1_4(world):
    base = make_series(world["project"], name="base work")
    world["series"].dependencies.add(base)
    data = ApiClient("1.4").get(f"series/{world['series'].id}/").data
    assert data["dependencies"] == [f"http://testserver/api/1.4/series/{base.id}/"]
    assert ApiClient("1.4").get(f"series/{base.id}/").data["dependents"] == [
        f"http://testserver/api/1.4/series/{world['series'].id}/"
    ]
    assert "dependencies" not in ApiClient("1.3").get(f"series/{world['series'].id}/").data


def test_series_filters(api, world, submitter):
    other = make_series(world["other_project"], name="other", date=T0 + timedelta(days=2))
    assert [s["id"] for s in api.get("series/", {"project": "other"}).data] == [other.id]
    assert [s["id"] for s in api.get("series/", {"submitter": str(submitter.id)}).data] == [
        world["series"].id
    ]
    assert [s["id"] for s in api.get("series/", {"since": "2024-03-02"}).data] == [other.id]
    assert [s["id"] for s in api.get("series/", {"before": "2024-03-02"}).data] == [
        world["series"].id
    ]
    assert [s["id"] for s in api.get("series/", {"q": "fine"}).data] == [world["series"].id]
    assert api.get("series/", {"submitter": "nobody@example.com"}).data == []
    assert [s["id"] for s in api.get("series/", {"order": "-date"}).data] == [
        other.id,
        world["series"].id,
    ]


def test_missing_series_is_404(api):
    assert api.get("series/424242/").status_code == 404
