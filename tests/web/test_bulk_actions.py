"""Bulk actions on the patch list: who may do what, in place with htmx, all or nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.events.models import Event
from apps.patches.models import Bundle
from tests.factories import default_state, make_bundle, make_patch, make_project, make_user
from tests.web.conftest import htmx_headers

pytestmark = pytest.mark.django_db

BULK = "/project/demo/list/bulk/"


def states(*patches) -> list[str]:
    return [type(p).objects.get(pk=p.pk).state.slug for p in patches]


def test_maintainer_sets_state_delegate_archived_in_place(client, project, maintainer):
    a, b, untouched = make_patch(project), make_patch(project), make_patch(project)
    client.force_login(maintainer)
    response = client.post(
        BULK,
        {
            "action": "update",
            "patch_id": [a.pk, b.pk],
            "state": "accepted",
            "delegate": "maintainer",
            "archived": "yes",
        },
        **htmx_headers("bulk-status"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Updated 2 patches." in body
    # Only the changed rows come back, as out-of-band swaps.
    assert body.count('hx-swap-oob="outerHTML"') == 2
    assert f'id="patch-row-{a.pk}"' in body and f'id="patch-row-{b.pk}"' in body
    assert f'id="patch-row-{untouched.pk}"' not in body
    for patch in (a, b):
        patch.refresh_from_db()
        assert (patch.state.slug, patch.delegate, patch.archived) == ("accepted", maintainer, True)
    untouched.refresh_from_db()
    assert untouched.state.slug == "new"
    assert Event.objects.filter(category=Event.PATCH_STATE_CHANGED).count() == 2
    assert Event.objects.filter(category=Event.PATCH_DELEGATED).count() == 2


def test_without_htmx_redirects_back_to_the_same_list(client, project, maintainer):
    patch = make_patch(project)
    client.force_login(maintainer)
    back = "/project/demo/list/?q=change&order=name"
    response = client.post(
        BULK, {"action": "update", "patch_id": [patch.pk], "state": "rejected", "next": back}
    )
    assert response.status_code == 302
    assert response["Location"] == back
    assert states(patch) == ["rejected"]
    # An off-site next is ignored.
    response = client.post(
        BULK,
        {
            "action": "update",
            "patch_id": [patch.pk],
            "state": "new",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/project/demo/list/"


def test_anonymous_cannot_change_anything(client, project):
    patch = make_patch(project)
    response = client.post(BULK, {"action": "update", "patch_id": [patch.pk], "state": "accepted"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.post(
        BULK, {"action": "update", "patch_id": [patch.pk], "state": "accepted"}, **htmx_headers()
    )
    assert response.status_code == 403
    assert states(patch) == ["new"]


def test_stranger_cannot_triage_and_nothing_changes(client, project, stranger, submitter):
    own = make_patch(project, submitter=submitter)
    other = make_patch(project)
    client.force_login(stranger)
    response = client.post(
        BULK,
        {"action": "update", "patch_id": [own.pk, other.pk], "state": "accepted"},
        **htmx_headers(),
    )
    assert response.status_code == 400
    assert "nothing was changed" in response.content.decode()
    assert states(own, other) == ["new", "new"]
    assert not Event.objects.exists()


def test_submitter_may_change_own_patches(client, project, submitter):
    own = make_patch(project, submitter=submitter)
    client.force_login(submitter.user)
    response = client.post(
        BULK, {"action": "update", "patch_id": [own.pk], "state": "rfc"}, **htmx_headers()
    )
    assert response.status_code == 200
    assert states(own) == ["rfc"]


def test_mixed_permissions_change_nothing(client, project, submitter):
    own = make_patch(project, submitter=submitter)
    other = make_patch(project)
    client.force_login(submitter.user)
    response = client.post(
        BULK, {"action": "update", "patch_id": [own.pk, other.pk], "state": "rfc"}, **htmx_headers()
    )
    assert response.status_code == 400
    assert states(own, other) == ["new", "new"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"state": "bogus"}, "Unknown state"),
        ({"delegate": "ghost"}, "Unknown user"),
        ({"delegate": "stranger"}, "is not a maintainer"),
        ({"archived": "perhaps"}, "Archived must be yes or no"),
        ({"state": ""}, "Choose a state"),
        ({"state": "accepted", "patch_id": []}, "Select at least one patch"),
        ({"state": "accepted", "patch_id": ["x"]}, "not a list of patch ids"),
        ({"state": "accepted", "action": "explode"}, "Unknown action"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client, project, maintainer, stranger, data, message
):
    patch = make_patch(project)
    client.force_login(maintainer)
    payload = {"action": "update", "patch_id": [patch.pk], "state": "accepted"} | data
    response = client.post(BULK, payload, **htmx_headers())
    assert response.status_code == 400
    assert message in response.content.decode()
    assert states(patch) == ["new"]
    assert not Event.objects.exists()


def test_patches_of_another_project_are_refused(client, project, maintainer):
    elsewhere = make_patch(make_project("other", maintainers=[maintainer]))
    client.force_login(maintainer)
    response = client.post(
        BULK,
        {"action": "update", "patch_id": [elsewhere.pk], "state": "accepted"},
        **htmx_headers(),
    )
    assert response.status_code == 400
    assert states(elsewhere) == ["new"]


def test_any_user_adds_to_new_and_existing_bundles(client, project, stranger):
    a, b = make_patch(project), make_patch(project)
    client.force_login(stranger)
    response = client.post(
        BULK,
        {"action": "bundle", "patch_id": [a.pk], "bundle_name": "for-next"},
        **htmx_headers(),
    )
    assert response.status_code == 200
    assert "Created bundle &#x27;for-next&#x27;" in response.content.decode()
    bundle = Bundle.objects.get(owner=stranger, name="for-next")
    assert list(bundle.patches.all()) == [a]
    response = client.post(
        BULK,
        {"action": "bundle", "patch_id": [a.pk, b.pk], "bundle": bundle.pk},
        **htmx_headers(),
    )
    assert "Added 1 patch(es)" in response.content.decode()
    assert "1 already there" in response.content.decode()
    assert [bp.patch_id for bp in bundle.bundlepatches.order_by("order")] == [a.pk, b.pk]


def test_cannot_add_to_someone_elses_bundle(client, project, stranger, maintainer):
    patch = make_patch(project)
    theirs = make_bundle(maintainer, [make_patch(project)])
    client.force_login(stranger)
    response = client.post(
        BULK, {"action": "bundle", "patch_id": [patch.pk], "bundle": theirs.pk}, **htmx_headers()
    )
    assert response.status_code == 400
    assert theirs.patches.count() == 1


def test_duplicate_bundle_name_is_refused(client, project, stranger):
    patch = make_patch(project)
    make_bundle(stranger, [patch], name="taken")
    client.force_login(stranger)
    response = client.post(
        BULK, {"action": "bundle", "patch_id": [patch.pk], "bundle_name": "taken"}, **htmx_headers()
    )
    assert response.status_code == 400
    assert Bundle.objects.filter(owner=stranger).count() == 1


def test_bulk_update_query_count_is_bounded_per_patch(
    client, project, maintainer, django_assert_max_num_queries
):
    patches = [make_patch(project) for _ in range(10)]
    client.force_login(maintainer)
    with django_assert_max_num_queries(10 * 12 + 15):
        client.post(
            BULK,
            {"action": "update", "patch_id": [p.pk for p in patches], "state": "accepted"},
            **htmx_headers(),
        )
    assert set(states(*patches)) == {"accepted"}


def test_state_unchanged_patch_gets_no_event(client, project, maintainer):
    patch = make_patch(project, state=default_state("accepted"))
    client.force_login(maintainer)
    client.post(
        BULK, {"action": "update", "patch_id": [patch.pk], "state": "accepted"}, **htmx_headers()
    )
    assert not Event.objects.exists()


def test_other_user_bundles_listed_in_bulk_bar(client, project, stranger):
    make_patch(project)
    make_bundle(stranger, [make_patch(project)], name="mine")
    make_bundle(make_user("someone"), [make_patch(project)], name="not-mine")
    client.force_login(stranger)
    body = client.get("/project/demo/list/").content.decode()
    assert ">mine<" in body
    assert "not-mine" not in body
