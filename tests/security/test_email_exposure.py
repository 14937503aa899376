"""Who sees e-mail addresses: what Patchwork's clients need stays public, the rest needs a login.

Public, as in Patchwork: XML-RPC person_list (pwclient looks submitters up by
address) and the submitter of patches, covers and series in REST and on the
pages. Needs a login: REST /people/ and /users/ (as the OpenAPI documents:
403 anonymously) and the list page's submitter autocomplete (it searched every
address that ever mailed the lists, for anyone: the probe's finding).
"""

from __future__ import annotations

import xmlrpc.client

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.client import ApiClient
from tests.factories import make_person, make_user

pytestmark = pytest.mark.django_db

ADDRESS = "alice@example.com"


@pytest.fixture
def alice():
    return make_person(ADDRESS, name="Alice Liddell")


def test_the_submitter_autocomplete_gives_anonymous_visitors_no_addresses(alice):
    for q in ("alic", "example.com"):
        body = Client().get(reverse("autocomplete-person"), {"submitter": q})
        assert body.status_code == 200
        assert ADDRESS not in body.content.decode()


def test_the_submitter_autocomplete_serves_signed_in_users(alice):
    client = Client()
    client.force_login(make_user("reader"))
    body = client.get(reverse("autocomplete-person"), {"submitter": "alic"}).content.decode()
    assert ADDRESS in body


@pytest.mark.parametrize("endpoint", ["people/", "people/{pk}/", "users/"])
def test_rest_people_and_users_need_a_login(alice, endpoint):
    response = ApiClient("1.4").request("GET", endpoint.format(pk=alice.pk))
    assert response.status_code == 403
    assert ADDRESS not in str(response.data)


def test_xmlrpc_person_list_stays_public_as_in_patchwork(alice):
    body = xmlrpc.client.dumps(("alice",), "person_list")
    response = Client().post("/xmlrpc/", body, content_type="text/xml")
    people = xmlrpc.client.loads(response.content)[0][0]
    assert [person["email"] for person in people] == [ADDRESS]
