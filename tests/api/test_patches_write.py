"""PATCH/PUT /patches/{id}/: who may change what, values, errors, and the events recorded."""

from __future__ import annotations

import pytest

from apps.events.models import Event
from apps.patches.models import Patch
from tests.api.client import ApiClient
from tests.api.conftest import events_of, state
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def refreshed(patch: Patch) -> Patch:
    return Patch.objects.select_related("state", "delegate").get(pk=patch.pk)


# --- permissions ----------------------------------------------------------------------------


@pytest.fixture
def personas(maintainer, submitter_user, stranger, superuser, delegate_user, world):
    world["p1"].delegate = delegate_user
    world["p1"].save()
    return {
        "maintainer": maintainer,
        "submitter": submitter_user,
        "stranger": stranger,
        "superuser": superuser,
        "delegate": delegate_user,
    }


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("anonymous", False),
        ("stranger", False),
        ("submitter", True),
        ("delegate", True),
        ("maintainer", True),
        ("superuser", True),
    ],
)
def test_who_may_change_a_patch(who, allowed, personas, world, client_for):
    client = client_for(personas.get(who))
    response = client.patch(f"patches/{world['p1'].id}/", {"state": "under-review"})
    if allowed:
        assert response.status_code == 200
        assert response.data["state"] == "under-review"
        assert refreshed(world["p1"]).state.slug == "under-review"
    else:
        assert response.status_code == 403
        assert set(response.data) == {"detail"}
        assert refreshed(world["p1"]).state.slug == "new"
        assert not events_of(Event.PATCH_STATE_CHANGED)


def test_submitter_may_not_change_someone_elses_patch(personas, world, client_for):
    client = client_for(personas["submitter"])
    response = client.patch(f"patches/{world['loose'].id}/", {"archived": True})
    assert response.status_code == 403
    assert refreshed(world["loose"]).archived is False


def test_maintainers_of_another_project_may_not(world, client_for):
    from tests.factories import make_user

    other = make_user("othermaint")
    world["other_project"].maintainers.add(other)
    response = client_for(other).patch(f"patches/{world['p1'].id}/", {"archived": True})
    assert response.status_code == 403


def test_missing_patch_is_404(maintainer, client_for):
    assert client_for(maintainer).patch("patches/999999/", {"archived": True}).status_code == 404


# --- values ------------------------------------------------------------------------------------


def test_maintainer_changes_every_field_and_gets_the_detail_back(
    world, maintainer, delegate_user, client_for
):
    p1 = world["p1"]
    response = client_for(maintainer).patch(
        f"patches/{p1.id}/",
        {
            "state": "accepted",
            "delegate": delegate_user.id,
            "archived": True,
            "commit_ref": "1234abcd",
            "pull_url": "https://git.example.org/frob.git",
        },
    )
    assert response.status_code == 200
    data = response.data
    assert data["state"] == "accepted" and data["archived"] is True
    assert data["delegate"]["username"] == "delegate"
    assert data["commit_ref"] == "1234abcd"
    assert data["pull_url"] == "https://git.example.org/frob.git"
    assert "diff" in data  # the detailed representation
    p1 = refreshed(p1)
    assert (p1.state.slug, p1.delegate, p1.archived, p1.commit_ref) == (
        "accepted",
        delegate_user,
        True,
        "1234abcd",
    )


def test_events_record_the_acting_user(world, maintainer, delegate_user, client_for):
    client_for(maintainer).patch(
        f"patches/{world['p1'].id}/", {"state": "rejected", "delegate": delegate_user.id}
    )
    [changed] = events_of(Event.PATCH_STATE_CHANGED)
    assert (changed.actor, changed.previous_state.slug, changed.current_state.slug) == (
        maintainer,
        "new",
        "rejected",
    )
    [delegated] = events_of(Event.PATCH_DELEGATED)
    assert (delegated.actor, delegated.previous_delegate, delegated.current_delegate) == (
        maintainer,
        None,
        delegate_user,
    )
    # The same change again records nothing.
    client_for(maintainer).patch(f"patches/{world['p1'].id}/", {"state": "rejected"})
    assert len(events_of(Event.PATCH_STATE_CHANGED)) == 1


def test_git_pw_style_form_update(world, maintainer, delegate_user, client_for):
    """git pw patch update sends form data: state slug, delegate id, archived=True."""
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/",
        [("state", "changes-requested"), ("delegate", str(delegate_user.id)), ("archived", "True")],
        form=True,
    )
    assert response.status_code == 200
    assert response.data["state"] == "changes-requested"
    assert response.data["archived"] is True
    assert response.data["delegate"]["id"] == delegate_user.id


def test_pwclient_style_json_update(world, maintainer, client_for):
    """pwclient's REST backend sends JSON with the state's name and archived as yes/no."""
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/",
        {"state": "Under Review", "archived": "yes"},
        validate_request=False,
    )
    assert response.status_code == 200
    assert response.data["state"] == "under-review" and response.data["archived"] is True


def test_delegate_by_username_and_cleared_with_null(world, maintainer, delegate_user, client_for):
    client = client_for(maintainer)
    url = f"patches/{world['p1'].id}/"
    response = client.patch(url, {"delegate": "delegate"}, validate_request=False)
    assert response.data["delegate"]["id"] == delegate_user.id
    response = client.patch(url, {"delegate": None})
    assert response.data["delegate"] is None
    assert refreshed(world["p1"]).delegate is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"state": "no-such-state"}, "state"),
        ({"delegate": 999999}, "delegate"),
        ({"archived": "maybe"}, "archived"),
        ({"commit_ref": "x" * 256}, "commit_ref"),
    ],
)
def test_invalid_values_are_400_and_change_nothing(body, field, world, maintainer, client_for):
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/", {"archived": True, **body}, validate_request=False
    )
    assert response.status_code == 400
    assert field in response.data and all(isinstance(m, str) for m in response.data[field])
    p1 = refreshed(world["p1"])
    assert p1.archived is False and p1.state.slug == "new"
    assert not Event.objects.filter(category=Event.PATCH_STATE_CHANGED).exists()


def test_delegate_must_maintain_the_project(world, maintainer, stranger, client_for):
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/", {"delegate": stranger.id, "state": "accepted"}
    )
    assert response.status_code == 400
    assert "is not a maintainer" in response.data["delegate"][0]
    assert refreshed(world["p1"]).state.slug == "new"


def test_read_only_fields_are_ignored(world, maintainer, client_for):
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/",
        {"name": "renamed", "state": "accepted"},
        validate_request=False,
    )
    assert response.status_code == 200
    assert response.data["name"] == world["p1"].name


def test_put_requires_state_and_delegate(world, maintainer, client_for):
    client = client_for(maintainer)
    response = client.put(f"patches/{world['p1'].id}/", {"archived": True}, validate_request=False)
    assert response.status_code == 400
    assert set(response.data) == {"state", "delegate"}
    response = client.put(f"patches/{world['p1'].id}/", {"state": "accepted", "delegate": None})
    assert response.status_code == 200 and response.data["state"] == "accepted"


def test_without_content_type_nothing_changes(world, maintainer, client_for):
    client = client_for(maintainer)
    raw = client.client.generic(
        "PATCH",
        f"/api/1.4/patches/{world['p1'].id}/",
        b"state=accepted",
        content_type="",
        **client.headers,
    )
    assert raw.status_code == 200
    assert refreshed(world["p1"]).state.slug == "new"
    # A body of a type the API does not read is refused.
    raw = client.client.generic(
        "PATCH",
        f"/api/1.4/patches/{world['p1'].id}/",
        b"state=accepted",
        content_type="text/plain",
        **client.headers,
    )
    assert raw.status_code == 415
    assert refreshed(world["p1"]).state.slug == "new"


def test_malformed_json_is_400(world, maintainer, client_for):
    client = client_for(maintainer)
    raw = client.client.generic(
        "PATCH",
        f"/api/1.4/patches/{world['p1'].id}/",
        b"{not json",
        content_type="application/json",
        **client.headers,
    )
    assert raw.status_code == 400
    assert "JSON parse error" in raw.json()["detail"]


def test_state_by_name_also_works_with_forms(world, maintainer, client_for):
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/", {"state": "Changes Requested"}, form=True
    )
    assert response.data["state"] == "changes-requested"
    assert state("changes-requested") == refreshed(world["p1"]).state


# --- relations (1.2+) ----------------------------------------------------------------------------


def test_relate_patches_and_record_events(world, maintainer, client_for):
    p1, p2, loose = world["p1"], world["p2"], world["loose"]
    client = client_for(maintainer)
    response = client.patch(f"patches/{p1.id}/", {"related": [p2.id, loose.id]})
    assert response.status_code == 200
    assert sorted(p["id"] for p in response.data["related"]) == [p2.id, loose.id]
    assert refreshed(p2).related_id == refreshed(p1).related_id is not None
    changed = events_of(Event.PATCH_RELATION_CHANGED)
    assert {e.patch_id for e in changed} == {p1.id, p2.id, loose.id}
    assert all(e.actor == maintainer for e in changed)

    # An empty list takes the patch out of its relation.
    response = client.patch(f"patches/{loose.id}/", {"related": []})
    assert response.data["related"] == []
    assert refreshed(loose).related_id is None
    assert [p["id"] for p in client.get(f"patches/{p1.id}/").data["related"]] == [p2.id]


def test_relating_to_a_patch_in_another_relation_is_a_conflict(world, maintainer, client_for):
    p1, p2, loose = world["p1"], world["p2"], world["loose"]
    client = client_for(maintainer)
    client.patch(f"patches/{p1.id}/", {"related": [p2.id]})
    response = client.patch(f"patches/{loose.id}/", {"related": [p1.id]})
    assert response.status_code == 409
    assert refreshed(loose).related_id is None


def test_relating_needs_maintainership_of_every_patch(world, maintainer, client_for):
    response = client_for(maintainer).patch(
        f"patches/{world['p1'].id}/", {"related": [world["elsewhere"].id]}
    )
    assert response.status_code == 403
    assert refreshed(world["p1"]).related_id is None


def test_related_errors(world, maintainer, client_for):
    client = client_for(maintainer)
    url = f"patches/{world['p1'].id}/"
    response = client.patch(url, {"related": [999999]})
    assert response.status_code == 400 and "related" in response.data
    response = client.patch(url, {"related": [world["p1"].id]})
    assert response.status_code == 400 and "related" in response.data


def test_related_is_not_writable_before_1_2(world, maintainer, client_for):
    response = client_for(maintainer, version="1.1").patch(
        f"patches/{world['p1'].id}/", {"related": [world["p2"].id]}, validate_request=False
    )
    assert response.status_code == 200
    assert refreshed(world["p1"]).related_id is None


def test_submitter_matches_by_linked_person_not_by_name(world, client_for):
    from tests.factories import make_user

    impostor = make_user("impostor", email="submitter@example.com.evil")
    make_person("impostor@example.org", name="Sam Submitter", user=impostor)
    response = client_for(impostor).patch(f"patches/{world['p1'].id}/", {"archived": True})
    assert response.status_code == 403


def test_anonymous_client_is_told_to_authenticate(world):
    response = ApiClient().patch(f"patches/{world['p1'].id}/", {"archived": True})
    assert response.status_code == 403
    assert response.data == {"detail": "Authentication credentials were not provided."}
