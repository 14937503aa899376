"""Versions, the index, URL forms (with/without slash) and the on/off switch."""

from __future__ import annotations

import pytest

from tests.api.client import ApiClient
from tests.api.schema import VERSIONS

pytestmark = pytest.mark.django_db

RESOURCES = {"bundles", "covers", "events", "patches", "people", "projects", "users", "series"}


@pytest.mark.parametrize("version", [*VERSIONS, None])
def test_index_lists_every_resource_with_absolute_urls(version):
    response = ApiClient(version).get("")
    assert response.status_code == 200
    prefix = f"http://testserver/api/{version}/" if version else "http://testserver/api/"
    assert response.data == {name: f"{prefix}{name}/" for name in RESOURCES}


def test_index_without_trailing_slash_is_served_directly():
    for path in ("/api/1.2", "/api/1.2/"):
        response = ApiClient().get(path)
        assert response.status_code == 200
        assert response.data["patches"] == "http://testserver/api/1.2/patches/"


def test_unversioned_api_is_the_latest(world):
    latest = ApiClient(None).get(f"patches/{world['p1'].id}/").data
    versioned = ApiClient("1.4").get(f"patches/{world['p1'].id}/").data
    assert latest.keys() == versioned.keys()
    assert latest["url"] == f"http://testserver/api/patches/{world['p1'].id}/"
    assert versioned["url"] == f"http://testserver/api/1.4/patches/{world['p1'].id}/"


def test_links_use_https_when_forced(settings, world):
    settings.FORCE_HTTPS_LINKS = True
    data = ApiClient().get(f"patches/{world['p1'].id}/").data
    assert data["url"].startswith("https://testserver/api/1.4/")
    assert data["mbox"].startswith("https://testserver/project/")


def test_every_path_works_without_the_trailing_slash(world, maintainer, client_for):
    client = client_for(maintainer)
    pid = world["p1"].id
    assert client.get("patches").status_code == 200
    assert client.get(f"patches/{pid}").data["id"] == pid
    # A write without the slash keeps its body (no redirect that would drop it).
    response = client.patch(f"patches/{pid}", {"state": "accepted"})
    assert response.status_code == 200
    assert response.data["state"] == "accepted"
    response = client.post(f"patches/{pid}/checks", {"state": "success", "context": "ci"})
    assert response.status_code == 201
    bundle = client.post("bundles", {"name": "noslash", "patches": [pid]})
    assert bundle.status_code == 201
    assert client.delete(f"bundles/{bundle.data['id']}").status_code == 204


def test_unknown_paths_are_json_404():
    client = ApiClient()
    for path in ("nonsense/", "patches/1/nonsense/", "/api/9.9/patches/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.data == {"detail": "Not found."}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_comment_detail_appears_in_1_3(version, world, maintainer, client_for):
    from tests.factories import make_patch_comment

    comment = make_patch_comment(world["p1"])
    client = client_for(maintainer, version=version)
    # The client checks the answer is a JSON 404: the operation is not in this version.
    response = client.get(f"patches/{world['p1'].id}/comments/{comment.id}/")
    assert response.status_code == 404
    assert (
        client_for(maintainer, version="1.3")
        .get(f"patches/{world['p1'].id}/comments/{comment.id}/")
        .data["id"]
        == comment.id
    )


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_bundle_writes_appear_in_1_2(version, world, maintainer, client_for):
    client = client_for(maintainer, version=version)
    response = client.post("bundles/", {"name": "early", "patches": [world["p1"].id]})
    assert response.status_code == 405
    from apps.patches.models import Bundle

    assert not Bundle.objects.filter(name="early").exists()


def test_fields_follow_the_version(world, client_for, maintainer):
    pid = world["p1"].id
    by_version = {
        v: client_for(maintainer, version=v).get(f"patches/{pid}/").data for v in VERSIONS
    }
    assert "web_url" not in by_version["1.0"] and "comments" not in by_version["1.0"]
    assert "web_url" in by_version["1.1"] and "list_archive_url" not in by_version["1.1"]
    assert "related" in by_version["1.2"] and "list_archive_url" in by_version["1.2"]
    series = {
        v: client_for(maintainer, version=v).get(f"series/{world['series'].id}/").data
        for v in VERSIONS
    }
    assert "dependencies" not in series["1.3"] and "dependencies" in series["1.4"]
    project = {
        v: client_for(maintainer, version=v).get(f"projects/{world['project'].id}/").data
        for v in VERSIONS
    }
    assert "subject_match" not in project["1.0"] and "subject_match" in project["1.1"]
    assert "show_dependencies" not in project["1.3"] and "show_dependencies" in project["1.4"]


def test_rest_api_can_be_switched_off(settings, world):
    settings.ENABLE_REST_API = False
    client = ApiClient()
    for path in ("", "patches/", f"patches/{world['p1'].id}/", "/api/openapi.json"):
        response = client.get(path, validate=False)
        assert response.status_code == 404, path
    # Downloads are pages, not the API: they stay.
    assert client.client.get(f"/series/{world['series'].id}/mbox/").status_code == 200


def test_ninja_openapi_schema_and_docs_are_served():
    client = ApiClient()
    schema = client.client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/patches/" in paths and "/api/bundles/{id}/" in paths
    assert client.client.get("/api/1.0/openapi.json").status_code == 200
    old_paths = client.client.get("/api/1.2/openapi.json").json()["paths"]
    assert "/api/1.2/patches/{patch_id}/comments/{comment_id}/" not in old_paths
    docs = client.client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_api_docs_work_offline():
    html = ApiClient().client.get("/api/docs").content.decode()
    assert "cdn." not in html and "/static/ninja/swagger-ui-bundle.js" in html
