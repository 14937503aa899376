"""A private bundle is 404 to everyone not allowed, whatever credentials they bring.

The probe's finding: a bad token on a private bundle's mbox got 403 while a
bundle that does not exist got 404, which confirmed the private one existed.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import APIToken
from apps.accounts.services import api_token_regenerate
from tests.api import schema
from tests.api.client import ApiClient
from tests.factories import make_bundle, make_patch, make_project, make_user

pytestmark = pytest.mark.django_db

BAD_TOKEN = {"HTTP_AUTHORIZATION": f"Token {APIToken.new_key()}"}
BAD_BASIC = {"HTTP_AUTHORIZATION": "Basic b3duZXI6d3Jvbmc="}  # owner:wrong


@pytest.fixture
def private():
    owner = make_user("owner")
    return make_bundle(owner, [make_patch(make_project("priv"))], name="secret", public=False)


def _mbox(credentials: dict, path: str = "/bundle/owner/secret/mbox/"):
    return Client().get(path, **credentials)


@pytest.mark.parametrize("credentials", [BAD_TOKEN, BAD_BASIC, {}], ids=["token", "basic", "none"])
def test_private_bundle_mbox_is_404_whatever_the_credentials(private, credentials):
    response = _mbox(credentials)
    missing = _mbox(credentials, "/bundle/owner/no-such-bundle/mbox/")
    assert response.status_code == missing.status_code == 404


def test_private_bundle_mbox_is_404_with_someone_elses_valid_token(private):
    key = api_token_regenerate(user=make_user("stranger"))
    assert _mbox({"HTTP_AUTHORIZATION": f"Token {key}"}).status_code == 404


def test_private_bundle_mbox_downloads_with_the_owners_token(private):
    key = api_token_regenerate(user=private.owner)
    response = _mbox({"HTTP_AUTHORIZATION": f"Token {key}"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"From ")


@pytest.mark.parametrize("version", schema.VERSIONS)
def test_rest_answers_a_private_bundle_as_a_missing_one(private, version):
    missing_id = private.pk + 1000
    # Bad credentials: the same refusal for the private bundle and for no bundle at all.
    for credentials in (BAD_TOKEN, BAD_BASIC):
        api = ApiClient(version)
        seen = api.request("GET", f"bundles/{private.pk}/", **credentials)
        none = api.request("GET", f"bundles/{missing_id}/", **credentials)
        assert (seen.status_code, seen.data) == (none.status_code, none.data)
    # No credentials, or another user's: 404, like a bundle that does not exist.
    assert ApiClient(version).request("GET", f"bundles/{private.pk}/").status_code == 404
    stranger = ApiClient(version).token_auth(make_user(f"stranger{version}"))
    assert stranger.request("GET", f"bundles/{private.pk}/").status_code == 404
    owner = ApiClient(version).token_auth(private.owner)
    assert owner.request("GET", f"bundles/{private.pk}/").status_code == 200
