"""Bundles: my bundles, a bundle's page, and what only its owner may do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.patches.models import Bundle
from tests.factories import make_bundle, make_patch, make_project
from tests.web.conftest import htmx_headers

pytestmark = pytest.mark.django_db


def url(bundle) -> str:
    return reverse("bundle-detail", args=[bundle.owner.username, bundle.name])


def order(bundle) -> list[int]:
    return list(bundle.bundlepatches.order_by("order").values_list("patch_id", flat=True))


@pytest.fixture
def patches(project):
    return [make_patch(project, name=f"patch {n}") for n in range(3)]


@pytest.fixture
def bundle(stranger, patches):
    return make_bundle(stranger, patches, name="for-next")


def test_my_bundles_needs_login_and_lists_only_mine(
    client, bundle, maintainer, stranger, django_assert_max_num_queries
):
    response = client.get(reverse("user-bundles"))
    assert response.status_code == 302 and "/user/login/" in response["Location"]
    make_bundle(maintainer, [make_patch(bundle.project)], name="theirs")
    client.force_login(stranger)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("user-bundles"))
    body = response.content.decode()
    assert "for-next" in body and "theirs" not in body
    assert f"{url(bundle)}mbox/" in body
    assert response.context["bundles"][0].patch_count == 3


def test_private_bundle_is_404_to_others(client, bundle, maintainer):
    assert client.get(url(bundle)).status_code == 404
    client.force_login(maintainer)
    assert client.get(url(bundle)).status_code == 404
    assert client.post(url(bundle), {"action": "delete"}).status_code == 404
    assert Bundle.objects.filter(pk=bundle.pk).exists()


def test_public_bundle_is_readable_but_not_editable(client, bundle, maintainer, patches):
    bundle.public = True
    bundle.save()
    response = client.get(url(bundle))
    assert response.status_code == 200
    body = response.content.decode()
    assert [i.patch for i in response.context["items"]] == patches
    assert "data-reorder-url" not in body
    assert "Delete bundle" not in body
    client.force_login(maintainer)
    assert client.post(url(bundle), {"action": "delete"}).status_code == 404
    assert Bundle.objects.filter(pk=bundle.pk).exists()


def test_owner_page_query_count(client, bundle, stranger, django_assert_max_num_queries):
    client.force_login(stranger)
    with django_assert_max_num_queries(5):
        response = client.get(url(bundle))
    body = response.content.decode()
    assert "data-reorder-url" in body
    assert "Delete bundle" in body


def test_owner_reorders(client, bundle, stranger, patches):
    client.force_login(stranger)
    new = [patches[2].pk, patches[0].pk, patches[1].pk]
    response = client.post(url(bundle), {"action": "reorder", "patch_id": new}, **htmx_headers())
    assert response.status_code == 200
    assert "Order saved." in response.content.decode()
    assert order(bundle) == new


def test_owner_removes_patches(client, bundle, stranger, patches):
    client.force_login(stranger)
    response = client.post(
        url(bundle), {"action": "remove", "patch_id": [patches[1].pk]}, **htmx_headers()
    )
    assert response.status_code == 200
    assert "Removed 1 patch(es)." in response.content.decode()
    assert order(bundle) == [patches[0].pk, patches[2].pk]
    assert 'id="bundle-manage"' in response.content.decode()


def test_owner_renames_and_is_sent_to_the_new_url(client, bundle, stranger):
    client.force_login(stranger)
    response = client.post(url(bundle), {"action": "rename", "name": "applied"}, **htmx_headers())
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/bundle/stranger/applied/"
    bundle.refresh_from_db()
    assert bundle.name == "applied"


def test_bad_rename_is_refused(client, bundle, stranger):
    make_bundle(stranger, [make_patch(bundle.project)], name="taken")
    client.force_login(stranger)
    for name in ["", "a/b", "x" * 51, "taken"]:
        response = client.post(url(bundle), {"action": "rename", "name": name}, **htmx_headers())
        assert response.status_code == 400, name
    bundle.refresh_from_db()
    assert bundle.name == "for-next"


def test_owner_publishes_and_unpublishes(client, bundle, stranger):
    client.force_login(stranger)
    response = client.post(url(bundle), {"action": "public", "public": "true"}, **htmx_headers())
    assert "now public" in response.content.decode()
    bundle.refresh_from_db()
    assert bundle.public
    response = client.post(url(bundle), {"action": "public", "public": "false"})
    assert response.status_code == 302
    bundle.refresh_from_db()
    assert not bundle.public
    assert client.post(url(bundle), {"action": "public", "public": "maybe"}).status_code == 302
    bundle.refresh_from_db()
    assert not bundle.public


def test_owner_deletes(client, bundle, stranger):
    client.force_login(stranger)
    response = client.post(url(bundle), {"action": "delete"})
    assert response.status_code == 302
    assert response["Location"] == reverse("user-bundles")
    assert not Bundle.objects.filter(pk=bundle.pk).exists()


def test_bad_actions_change_nothing(client, bundle, stranger, patches):
    client.force_login(stranger)
    before = order(bundle)
    for data in [
        {"action": "remove"},
        {"action": "reorder", "patch_id": ["x"]},
        {"action": "explode"},
    ]:
        response = client.post(url(bundle), data, **htmx_headers())
        assert response.status_code == 400, data
    assert order(bundle) == before


def test_bundle_across_projects_links_each_patch_to_its_project(client, stranger, project):
    other = make_patch(make_project("other"), name="elsewhere")
    bundle = make_bundle(stranger, [make_patch(project), other], public=True)
    body = client.get(url(bundle)).content.decode()
    assert reverse("patch-detail", args=["other", other.url_msgid]) in body
