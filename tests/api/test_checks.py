"""/patches/{id}/checks/: listing, filtering, and creation by maintainers (the caller is the user)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.checks.models import Check
from apps.events.models import Event
from tests.api.client import ApiClient
from tests.api.conftest import T0, events_of
from tests.factories import make_check, make_user

pytestmark = pytest.mark.django_db


def test_create_a_check(world, maintainer, client_for):
    p1 = world["p1"]
    response = client_for(maintainer).post(
        f"patches/{p1.id}/checks/",
        {
            "state": "warning",
            "context": "build-x86_64",
            "target_url": "https://ci.example.org/run/1",
            "description": "3 warnings",
        },
    )
    assert response.status_code == 201
    data = response.data
    assert data["user"]["username"] == "maintainer"
    assert (data["state"], data["context"], data["description"]) == (
        "warning",
        "build-x86_64",
        "3 warnings",
    )
    check = Check.objects.get(pk=data["id"])
    assert data["url"] == f"http://testserver/api/1.4/patches/{p1.id}/checks/{check.id}/"
    [event] = events_of(Event.CHECK_CREATED)
    assert (event.patch, event.created_check, event.actor) == (p1, check, maintainer)
    # The patch's combined state follows.
    assert ApiClient().get(f"patches/{p1.id}/").data["check"] == "warning"


def test_create_with_a_form_and_the_default_context(world, maintainer, client_for):
    response = client_for(maintainer).post(
        f"patches/{world['p1'].id}/checks/", {"state": "success"}, form=True
    )
    assert response.status_code == 201 and response.data["context"] == "default"


@pytest.mark.parametrize("who", ["anonymous", "stranger", "submitter"])
def test_only_maintainers_create_checks(who, world, stranger, submitter_user, client_for):
    user = {"anonymous": None, "stranger": stranger, "submitter": submitter_user}[who]
    response = client_for(user).post(f"patches/{world['p1'].id}/checks/", {"state": "success"})
    assert response.status_code == 403
    assert not Check.objects.exists() and not events_of(Event.CHECK_CREATED)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "state"),
        ({"state": "great"}, "state"),
        ({"state": "success", "context": "has spaces"}, "context"),
        ({"state": "success", "target_url": "not a url"}, "target_url"),
    ],
)
def test_invalid_checks_are_400(body, field, world, maintainer, client_for):
    response = client_for(maintainer).post(
        f"patches/{world['p1'].id}/checks/", body, validate_request=False
    )
    assert response.status_code == 400
    assert field in response.data
    assert not Check.objects.exists()


def test_checks_on_a_missing_patch_are_404(maintainer, client_for):
    client = client_for(maintainer)
    assert client.get("patches/999999/checks/").status_code == 404
    assert client.post("patches/999999/checks/", {"state": "success"}).status_code == 404


def test_list_detail_and_filters(api, world, maintainer):
    bot = make_user("bot")
    p1 = world["p1"]
    a = make_check(p1, maintainer, state=Check.SUCCESS, context="build", date=T0)
    b = make_check(p1, bot, state=Check.FAIL, context="lint", date=T0 + timedelta(hours=1))
    make_check(world["p2"], bot, state=Check.FAIL, context="lint", date=T0)

    def listed(query=None):
        return [c["id"] for c in api.get(f"patches/{p1.id}/checks/", query).data]

    assert listed() == [a.id, b.id]
    assert listed({"user": "bot"}) == [b.id]
    assert listed({"user": str(maintainer.id)}) == [a.id]
    assert listed({"state": "fail"}) == [b.id]
    assert listed({"context": "build"}) == [a.id]
    assert listed({"since": "2024-03-01T12:30:00"}) == [b.id]
    assert listed({"order": "-date"}) == [b.id, a.id]
    assert listed({"user": "nobody"}) == []
    detail = api.get(f"patches/{p1.id}/checks/{a.id}/").data
    assert detail["user"]["username"] == "maintainer" and detail["context"] == "build"
    # A check is only found under its own patch.
    assert api.get(f"patches/{world['p2'].id}/checks/{a.id}/").status_code == 404


def test_invalid_state_filter_is_400(api, world):
    response = api.get(
        f"patches/{world['p1'].id}/checks/", {"state": "great"}, validate_request=False
    )
    assert response.status_code == 400 and list(response.data) == ["state"]
