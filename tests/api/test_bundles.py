"""Bundles: visibility, and create/update/delete (1.2+) by their owner only."""

from __future__ import annotations

import pytest

from apps.patches.models import Bundle
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response
    return [b["name"] for b in response.data]


def test_anonymous_sees_public_bundles_only(api, bundles):
    assert names(api.get("bundles/")) == ["public-one"]
    assert api.get(f"bundles/{bundles['private'].id}/").status_code == 404


def test_owner_sees_own_private_bundles(bundles, maintainer, stranger, client_for):
    assert names(client_for(maintainer).get("bundles/")) == ["public-one", "private-one"]
    assert names(client_for(stranger).get("bundles/")) == ["public-one", "strangers"]
    assert client_for(stranger).get(f"bundles/{bundles['private'].id}/").status_code == 404


def test_bundle_representation(api, bundles, world):
    data = api.get(f"bundles/{bundles['public'].id}/").data
    # Patches in bundle order, not id order.
    assert [p["id"] for p in data["patches"]] == [world["p2"].id, world["p1"].id]
    assert data["owner"]["username"] == "maintainer"
    assert data["web_url"] == "http://testserver/bundle/maintainer/public-one/"
    assert data["mbox"] == "http://testserver/bundle/maintainer/public-one/mbox/"
    assert data["project"]["link_name"] == "demo"
    # git-pw reads mbox and patches from list items.
    item = api.get("bundles/").data[0]
    assert item["mbox"] == data["mbox"] and item["patches"] == data["patches"]


def test_bundle_filters(bundles, maintainer, client_for):
    client = client_for(maintainer)
    assert names(client.get("bundles/", {"public": "false"})) == ["private-one"]
    assert names(client.get("bundles/", {"owner": "maintainer"})) == ["public-one", "private-one"]
    assert names(client.get("bundles/", {"owner": str(maintainer.id)})) == [
        "public-one",
        "private-one",
    ]
    assert names(client.get("bundles/", {"q": "priv"})) == ["private-one"]
    assert names(client.get("bundles/", {"project": "other"})) == []
    assert names(client.get("bundles/", {"order": "-name"})) == ["public-one", "private-one"]


def test_create_a_bundle_like_git_pw(world, stranger, client_for):
    """git pw bundle create: form-encoded, patches repeated, public as True/False."""
    form = [("name", "mine"), ("patches", world["p2"].id), ("patches", world["p1"].id)]
    form.append(("public", "False"))
    response = client_for(stranger).post("bundles/", form, form=True)
    assert response.status_code == 201
    assert response.data["name"] == "mine" and response.data["public"] is False
    assert [p["id"] for p in response.data["patches"]] == [world["p2"].id, world["p1"].id]
    bundle = Bundle.objects.get(pk=response.data["id"])
    assert bundle.owner == stranger and bundle.project == world["project"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"patches": [1]}, "name"),
        ({"name": "x"}, "patches"),
        ({"name": "x", "patches": []}, "patches"),
        ({"name": "x", "patches": [999999]}, "patches"),
        ({"name": "a/b", "patches": None}, "name"),
        ({"name": "", "patches": None}, "name"),
        ({"name": "x" * 51, "patches": None}, "name"),
        ({"name": "x", "patches": None, "public": "sometimes"}, "public"),
    ],
)
def test_invalid_bundles_are_not_created(body, field, world, stranger, client_for):
    if "patches" in body and body["patches"] is None:  # a valid list of patches
        body = {**body, "patches": [world["p1"].id]}
    response = client_for(stranger).post("bundles/", body, validate_request=False)
    assert response.status_code == 400
    assert field in response.data
    assert not Bundle.objects.filter(owner=stranger).exists()


def test_bundle_patches_must_share_a_project(world, stranger, client_for):
    response = client_for(stranger).post(
        "bundles/", {"name": "mixed", "patches": [world["p1"].id, world["elsewhere"].id]}
    )
    assert response.status_code == 400
    assert response.data == {"patches": ["Bundle patches must belong to the same project."]}


def test_bundle_names_are_unique_per_owner(bundles, world, maintainer, stranger, client_for):
    body = {"name": "public-one", "patches": [world["p1"].id]}
    assert client_for(maintainer).post("bundles/", body).status_code == 400
    assert client_for(stranger).post("bundles/", body).status_code == 201


def test_anonymous_cannot_create(world):
    response = ApiClient().post("bundles/", {"name": "x", "patches": [world["p1"].id]})
    assert response.status_code == 403
    assert not Bundle.objects.exists()


def test_owner_updates_name_public_and_patches(bundles, world, maintainer, client_for):
    client = client_for(maintainer)
    bundle = bundles["private"]
    response = client.patch(
        f"bundles/{bundle.id}/",
        [("name", "renamed"), ("public", "True"), ("patches", world["p1"].id)],
        form=True,
    )
    assert response.status_code == 200
    assert (response.data["name"], response.data["public"]) == ("renamed", True)
    # patches replace the bundle's patches (git pw bundle update --patch).
    assert [p["id"] for p in response.data["patches"]] == [world["p1"].id]
    bundle.refresh_from_db()
    assert bundle.name == "renamed" and bundle.public


def test_put_needs_a_name(bundles, maintainer, client_for):
    response = client_for(maintainer).put(
        f"bundles/{bundles['private'].id}/", {"public": True}, validate_request=False
    )
    assert response.status_code == 400 and "name" in response.data


def test_emptying_a_bundle_is_refused(bundles, maintainer, client_for):
    response = client_for(maintainer).patch(
        f"bundles/{bundles['private'].id}/", {"name": "private-one", "patches": []}
    )
    assert response.status_code == 400
    assert bundles["private"].patches.count() == 1


def test_others_cannot_change_or_delete(bundles, stranger, client_for):
    client = client_for(stranger)
    public, private = bundles["public"], bundles["private"]
    assert client.patch(f"bundles/{public.id}/", {"name": "mine"}).status_code == 403
    assert client.delete(f"bundles/{public.id}/").status_code == 403
    # A private bundle of someone else does not exist for them.
    assert client.patch(f"bundles/{private.id}/", {"name": "mine"}).status_code == 404
    assert client.delete(f"bundles/{private.id}/").status_code == 404
    assert ApiClient().delete(f"bundles/{public.id}/").status_code == 403
    assert Bundle.objects.filter(pk__in=[public.id, private.id]).count() == 2


def test_owner_deletes(bundles, maintainer, client_for):
    response = client_for(maintainer).delete(f"bundles/{bundles['private'].id}/")
    assert response.status_code == 204
    assert not Bundle.objects.filter(pk=bundles["private"].id).exists()


def test_bundles_are_read_only_before_1_2(bundles, maintainer, client_for):
    client = client_for(maintainer, version="1.1")
    assert client.get(f"bundles/{bundles['private'].id}/").status_code == 200
    assert client.patch(f"bundles/{bundles['private'].id}/", {"name": "x"}).status_code == 405
    assert client.delete(f"bundles/{bundles['private'].id}/").status_code == 405
