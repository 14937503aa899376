"""Log-in and log-out, by username or address, and brute-force throttling."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.accounts import throttle
from apps.accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def login(client, username, password="password", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def test_login_page(client):
    response = client.get(reverse("login"), {"next": "/about/"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username"' in html and '<label for="id_password"' in html
    assert 'value="/about/"' in html
    assert reverse("register") in html and reverse("password_reset") in html


def test_login_by_username_follows_next(client, stranger):
    response = client.post(
        reverse("login"), {"username": "stranger", "password": "password", "next": "/about/"}
    )
    assert response.status_code == 302 and response.url == "/about/"
    assert logged_in_as(client) == str(stranger.pk)


def test_login_never_redirects_off_site(client, stranger):
    response = client.post(
        reverse("login"),
        {"username": "stranger", "password": "password", "next": "https://evil.example/"},
    )
    assert response.url == "/"


def test_login_by_email_address_any_case(client, stranger):
    assert login(client, "STRANGER@example.com").status_code == 302
    assert logged_in_as(client) == str(stranger.pk)


def test_wrong_password_is_refused(client, stranger):
    response = login(client, "stranger", "wrong")
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert logged_in_as(client) is None


def test_signed_in_user_skips_login_page(client, stranger):
    client.force_login(stranger)
    assert client.get(reverse("login")).status_code == 302


def test_logout_needs_post(client, stranger):
    client.force_login(stranger)
    assert client.get(reverse("logout")).status_code == 405
    assert logged_in_as(client) == str(stranger.pk)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert logged_in_as(client) is None


def test_brute_force_is_throttled_per_username_and_client(client, stranger):
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        assert login(client, "stranger", "guess").status_code == 200
    # Locked: even the right password is refused, with a clear reason.
    response = login(client, "stranger")
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert logged_in_as(client) is None
    # Same username in another case is the same counter.
    assert login(client, "STRANGER").status_code == 429
    # Another client address is not locked out by this one.
    assert login(client, "stranger", REMOTE_ADDR="192.0.2.7").status_code == 302
    assert logged_in_as(client) == str(stranger.pk)


def test_other_users_are_not_locked_by_one_users_failures(client, stranger, maintainer):
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        login(client, "stranger", "guess")
    assert login(client, "maintainer").status_code == 302


def test_spraying_many_usernames_from_one_client_is_throttled(client, stranger):
    for n in range(throttle.LOGIN_FAILURES_PER_ADDRESS):
        assert login(client, f"nobody{n}", "guess").status_code == 200
    assert login(client, "stranger").status_code == 429
    assert login(client, "stranger", REMOTE_ADDR="192.0.2.8").status_code == 302


def test_success_resets_the_users_counter(client):
    make_user("carol")
    for _ in range(throttle.LOGIN_FAILURES_PER_USER - 1):
        login(client, "carol", "guess")
    assert login(client, "carol").status_code == 302
    client.logout()
    for _ in range(throttle.LOGIN_FAILURES_PER_USER - 1):
        login(client, "carol", "guess")
    assert login(client, "carol").status_code == 302


def test_unusual_usernames_make_valid_cache_keys(client):
    response = login(client, "x" * 400 + " \n\t☃", "guess")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "peer, forwarded, expected",
    [
        ("93.184.215.14", "", "93.184.215.14"),
        # A client on the internet cannot pick its address with the header.
        ("93.184.215.14", "198.51.100.1", "93.184.215.14"),
        # Behind a trusted (by default: loopback) proxy, the entry it appended counts.
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # A chain of trusted proxies is walked back to the first address outside it.
        ("127.0.0.1", "1.2.3.4, ::1", "1.2.3.4"),
        # A private-network peer is no proxy of ours unless TRUSTED_PROXIES says so.
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", "10.0.0.2"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("127.0.0.1", "garbage", "127.0.0.1"),
    ],
)
def test_client_address(rf, peer, forwarded, expected):
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert throttle.client_address(request) == expected


def test_clients_behind_a_local_proxy_are_throttled_separately(client, stranger):
    behind_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        login(client, "stranger", "guess", HTTP_X_FORWARDED_FOR="198.51.100.1", **behind_proxy)
    assert (
        login(client, "stranger", HTTP_X_FORWARDED_FOR="198.51.100.1", **behind_proxy).status_code
        == 429
    )
    ok = login(client, "stranger", HTTP_X_FORWARDED_FOR="198.51.100.2", **behind_proxy)
    assert ok.status_code == 302


def test_a_username_spelled_like_an_address_cannot_take_that_address_login(client):
    # The probe: a squatter registered another user's address as a username, and the
    # owner's login by address then named the squatter's account. New usernames cannot
    # contain '@' any more; an old one like it no longer wins over the address's owner.
    owner = make_user("owner", email="owner@example.com", password="owner-password")
    User.objects.create_user("owner@example.com", "squat@example.net", "squatter-password")
    assert login(client, "owner@example.com", "owner-password").status_code == 302
    assert logged_in_as(client) == str(owner.pk)


def test_the_admin_refuses_usernames_with_an_at_sign(admin_client):
    response = admin_client.post(
        "/admin/projects/user/add/",
        {
            "username": "owner@example.com",
            "password1": "a long enough password",
            "password2": "a long enough password",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "Enter a valid username" in response.content.decode()
    assert not User.objects.filter(username="owner@example.com").exists()


def test_createsuperuser_refuses_usernames_with_an_at_sign():
    with pytest.raises(CommandError, match="valid username"):
        call_command(
            "createsuperuser", username="root@example.com", email="r@example.com", interactive=False
        )
