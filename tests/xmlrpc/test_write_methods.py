"""patch_set and check_create: authentication, the REST API's permission rules, events."""

from __future__ import annotations

import xmlrpc.client

import pytest

from apps.checks.models import Check
from apps.events.models import Event
from apps.patches.models import Patch
from tests.factories import default_state, make_patch, make_user
from tests.xmlrpc.conftest import live

pytestmark = live


def fault_of(call, *args) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(*args)
    return info.value


def fields(patch: Patch) -> tuple:
    patch.refresh_from_db()
    return (patch.state_id, patch.commit_ref, patch.archived)


def test_patch_set_needs_credentials(rpc, rpc_as, project, maintainer):
    patch = make_patch(project)
    before = fields(patch)
    accepted = default_state("accepted").pk

    fault = fault_of(rpc.patch_set, patch.pk, {"state": accepted})
    assert fault.faultCode == 401
    assert "Authentication required" in fault.faultString

    fault = fault_of(rpc_as(maintainer, "wrong").patch_set, patch.pk, {"state": accepted})
    assert fault.faultCode == 401
    assert "invalid username or password" in fault.faultString

    inactive = make_user("gone", is_active=False)
    fault = fault_of(rpc_as(inactive).patch_set, patch.pk, {"state": accepted})
    assert fault.faultCode == 401

    assert fields(patch) == before
    assert not Event.objects.exists()


def test_maintainer_changes_state_commit_ref_and_archived(rpc_as, project, maintainer):
    patch = make_patch(project)
    accepted = default_state("accepted")
    params = {"state": accepted.pk, "commit_ref": "cafe1234", "archived": True, "junk": 1}

    assert rpc_as(maintainer).patch_set(patch.pk, params) is True

    assert fields(patch) == (accepted.pk, "cafe1234", True)
    event = Event.objects.get()
    assert event.category == Event.PATCH_STATE_CHANGED
    assert event.actor == maintainer
    assert event.patch_id == patch.pk
    assert event.current_state == accepted

    # Unarchive alone: nothing else changes, no new state event.
    assert rpc_as(maintainer).patch_set(patch.pk, {"archived": False}) is True
    assert fields(patch) == (accepted.pk, "cafe1234", False)
    assert Event.objects.count() == 1


def test_delegate_and_submitter_may_change_their_patch(
    rpc_as, project, submitter, submitter_user, stranger
):
    delegate = make_user("delegate")
    project.maintainers.add(delegate)
    rejected = default_state("rejected")
    delegated = make_patch(project, delegate=delegate)
    own = make_patch(project, submitter=submitter)

    assert rpc_as(delegate).patch_set(delegated.pk, {"state": rejected.pk}) is True
    assert rpc_as(submitter_user).patch_set(own.pk, {"state": rejected.pk}) is True
    assert fields(delegated)[0] == rejected.pk
    assert fields(own)[0] == rejected.pk
    assert [e.actor for e in Event.objects.order_by("id")] == [delegate, submitter_user]


def test_others_may_not_change_a_patch(rpc_as, project, stranger, submitter_user):
    patch = make_patch(project)
    before = fields(patch)
    accepted = default_state("accepted").pk

    for user in (stranger, submitter_user):
        fault = fault_of(rpc_as(user).patch_set, patch.pk, {"state": accepted})
        assert fault.faultCode == 403
        assert f"not allowed to change patch {patch.pk}" in fault.faultString
    assert fields(patch) == before
    assert not Event.objects.exists()


def test_patch_set_bad_input_changes_nothing(rpc_as, project, maintainer):
    patch = make_patch(project)
    before = fields(patch)
    client = rpc_as(maintainer)

    fault = fault_of(client.patch_set, patch.pk + 1000, {"archived": True})
    assert fault.faultCode == 404
    assert str(patch.pk + 1000) in fault.faultString

    fault = fault_of(client.patch_set, patch.pk, {"state": 9999, "archived": True})
    assert (fault.faultCode, fault.faultString) == (400, "No state with id 9999")

    fault = fault_of(client.patch_set, patch.pk, {"state": "accepted"})
    assert fault.faultCode == 400 and "state id" in fault.faultString

    fault = fault_of(client.patch_set, patch.pk, {"archived": "yes"})
    assert fault.faultCode == 400 and "archived must be a boolean" in fault.faultString

    fault = fault_of(client.patch_set, patch.pk, {"commit_ref": 12})
    assert fault.faultCode == 400

    fault = fault_of(client.patch_set, patch.pk, "state=3")
    assert fault.faultCode == -32602

    assert fields(patch) == before
    assert not Event.objects.exists()


def test_check_create_by_a_maintainer(rpc_as, project, maintainer):
    patch = make_patch(project)
    assert (
        rpc_as(maintainer).check_create(
            patch.pk, "ci-build", "success", "https://ci.example.com/42", "all good"
        )
        is True
    )
    check = Check.objects.get()
    assert (check.patch_id, check.user, check.context, check.state) == (
        patch.pk,
        maintainer,
        "ci-build",
        "success",
    )
    assert (check.target_url, check.description) == ("https://ci.example.com/42", "all good")
    event = Event.objects.get()
    assert event.category == Event.CHECK_CREATED
    assert (event.actor, event.created_check) == (maintainer, check)


def test_check_create_defaults(rpc_as, project, maintainer):
    patch = make_patch(project)
    # target_url and description may be left out; a nil context is "default".
    assert rpc_as(maintainer).check_create(patch.pk, None, "pending") is True
    check = Check.objects.get()
    assert (check.context, check.state, check.target_url, check.description) == (
        "default",
        "pending",
        None,
        None,
    )


def test_check_create_refusals_change_nothing(rpc, rpc_as, project, maintainer, submitter_user):
    patch = make_patch(project)
    client = rpc_as(maintainer)

    assert fault_of(rpc.check_create, patch.pk, "ci", "success").faultCode == 401
    # Only maintainers report checks, as in the REST API.
    fault = fault_of(rpc_as(submitter_user).check_create, patch.pk, "ci", "success")
    assert fault.faultCode == 403
    assert fault_of(client.check_create, patch.pk + 1000, "ci", "success").faultCode == 404

    fault = fault_of(client.check_create, patch.pk, "ci", "passed")
    assert fault.faultCode == 400
    assert "pending, success, warning, fail" in fault.faultString

    fault = fault_of(client.check_create, patch.pk, "ci", "success", "not a url")
    assert fault.faultCode == 400 and "target_url" in fault.faultString

    fault = fault_of(client.check_create, patch.pk, "has spaces", "success")
    assert fault.faultCode == 400 and "context" in fault.faultString

    fault = fault_of(client.check_create, patch.pk, "ci")
    assert fault.faultCode == -32602 and "state" in fault.faultString

    assert not Check.objects.exists()
    assert not Event.objects.exists()


def test_password_guessing_is_throttled_like_the_login_form(rpc_as, project):
    guesser = make_user("guesser")
    project.maintainers.add(guesser)
    patch = make_patch(project)
    for _ in range(5):
        fault = fault_of(rpc_as(guesser, "wrong").patch_set, patch.pk, {"archived": True})
        assert "invalid username or password" in fault.faultString
    # Now even the right password is refused for a while.
    fault = fault_of(rpc_as(guesser).patch_set, patch.pk, {"archived": True})
    assert fault.faultCode == 401
    assert "too many failed logins" in fault.faultString
    assert fields(patch)[2] is False
