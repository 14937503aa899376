"""Authentication: API token, HTTP Basic, the browser session with CSRF; bad credentials."""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

from apps.accounts.models import APIToken
from apps.accounts.services import api_token_regenerate
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("auth", ["token", "basic", "session"])
def test_each_method_authenticates(auth, maintainer, client_for):
    response = client_for(maintainer, auth=auth).get("users/")
    assert response.status_code == 200
    assert [u["username"] for u in response.data] == ["maintainer"]


def test_anonymous_callers_cannot_list_people_or_users(world):
    client = ApiClient()
    for path in ("people/", "users/", f"people/{world['other_person'].id}/"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.data == {"detail": "Authentication credentials were not provided."}


def test_token_is_looked_up_by_digest_and_records_last_use(maintainer):
    key = api_token_regenerate(user=maintainer)
    token = APIToken.objects.get(user=maintainer)
    assert token.digest == APIToken.digest_for(key) and key not in token.digest
    assert token.last_used is None
    client = ApiClient()
    response = client.get("users/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


def test_a_regenerated_token_replaces_the_old_one(maintainer):
    old = api_token_regenerate(user=maintainer)
    new = api_token_regenerate(user=maintainer)
    client = ApiClient()
    assert client.get("users/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200
    response = client.get("users/", HTTP_AUTHORIZATION=f"Token {old}")
    assert response.status_code == 403
    assert response.data == {"detail": "Invalid token."}


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Token nonsense", "Invalid token."),
        ("Token two words", "Invalid token header. Token string should not contain spaces."),
        ("Basic !!!", "Invalid basic header. Credentials not correctly base64 encoded."),
    ],
)
def test_bad_credentials_are_refused_not_ignored(header, detail, world):
    client = ApiClient()
    response = client.get("users/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 403
    assert response.data == {"detail": detail}
    # Not silently anonymous on writes either.
    response = client.patch(
        f"patches/{world['p1'].id}/", {"state": "accepted"}, HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 403
    world["p1"].refresh_from_db()
    assert world["p1"].state.slug == "new"


def test_wrong_password_and_inactive_users_are_refused(maintainer, stranger):
    client = ApiClient()
    response = client.basic_auth(maintainer, password="wrong").get("users/")
    assert response.status_code == 403
    assert response.data == {"detail": "Invalid username/password."}
    key = api_token_regenerate(user=stranger)
    stranger.is_active = False
    stranger.save(update_fields=["is_active"])
    assert ApiClient().get("users/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403
    assert ApiClient().basic_auth(stranger).get("users/").status_code == 403


def test_basic_auth_password_guessing_is_throttled(maintainer):
    client = ApiClient()
    for _ in range(5):
        assert client.basic_auth(maintainer, password="guess").get("users/").status_code == 403
    # Now even the right password is refused until the window passes.
    response = client.basic_auth(maintainer).get("users/")
    assert response.status_code == 403
    assert response.data == {"detail": "Too many failed logins; try again later."}


def test_basic_credentials_with_colons_in_the_password(maintainer):
    maintainer.set_password("pass:word")
    maintainer.save()
    raw = base64.b64encode(b"maintainer:pass:word").decode()
    assert ApiClient().get("users/", HTTP_AUTHORIZATION=f"Basic {raw}").status_code == 200


def test_session_writes_need_the_csrf_token(world, maintainer):
    client = ApiClient(enforce_csrf=True).session_auth(maintainer)
    pid = world["p1"].id
    response = client.patch(f"patches/{pid}/", {"state": "accepted"})
    assert response.status_code == 403
    assert response.data["detail"].startswith("CSRF Failed:")
    world["p1"].refresh_from_db()
    assert world["p1"].state.slug == "new"

    # With the cookie and header a browser's script would send, it works.
    secret = _get_new_csrf_string()
    client.client.cookies["csrftoken"] = secret
    response = client.patch(
        f"patches/{pid}/", {"state": "accepted"}, HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret)
    )
    assert response.status_code == 200
    assert response.data["state"] == "accepted"


def test_session_reads_need_no_csrf_token(world, maintainer):
    client = ApiClient(enforce_csrf=True).session_auth(maintainer)
    assert client.get("users/").status_code == 200


def test_token_writes_need_no_csrf_token(world, maintainer):
    client = ApiClient(enforce_csrf=True).token_auth(maintainer)
    response = client.patch(f"patches/{world['p1'].id}/", {"state": "accepted"})
    assert response.status_code == 200
