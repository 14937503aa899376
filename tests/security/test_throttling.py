"""Password and token guessing is throttled on every door: login form, REST, XML-RPC, mail intake."""

from __future__ import annotations

import base64
import xmlrpc.client

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts import throttle
from apps.accounts.models import APIToken
from apps.accounts.services import api_token_regenerate
from apps.mail.models import IncomingMail
from tests.factories import make_patch, make_project, make_user

pytestmark = pytest.mark.django_db

ATTACKER = "1.2.3.4"  # public addresses (never contacted): only a local peer may forward
BYSTANDER = "5.6.7.8"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def rest_get(client: Client, authorization: str, address: str = ATTACKER):
    return client.get("/api/1.4/users/", HTTP_AUTHORIZATION=authorization, REMOTE_ADDR=address)


def xmlrpc_patch_set(client: Client, patch_id: int, authorization: str, address: str = ATTACKER):
    body = xmlrpc.client.dumps((patch_id, {"archived": True}), "patch_set")
    response = client.post(
        "/xmlrpc/",
        body,
        content_type="text/xml",
        HTTP_AUTHORIZATION=authorization,
        REMOTE_ADDR=address,
    )
    try:
        return xmlrpc.client.loads(response.content)[0][0]
    except xmlrpc.client.Fault as fault:
        return fault


def test_login_form_blocks_the_right_password_after_too_many_wrong_ones(client):
    make_user("victim", password="right-password")
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        client.post(
            reverse("login"), {"username": "victim", "password": "guess"}, REMOTE_ADDR=ATTACKER
        )
    response = client.post(
        reverse("login"),
        {"username": "victim", "password": "right-password"},
        REMOTE_ADDR=ATTACKER,
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    # The owner elsewhere still logs in.
    other = Client()
    other.post(
        reverse("login"),
        {"username": "victim", "password": "right-password"},
        REMOTE_ADDR=BYSTANDER,
    )
    assert "_auth_user_id" in other.session


def test_rest_basic_auth_guessing_is_throttled():
    make_user("victim", password="right-password")
    client = Client()
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        assert rest_get(client, basic("victim", "guess")).status_code == 403
    response = rest_get(client, basic("victim", "right-password"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Too many failed logins; try again later."}
    assert rest_get(client, basic("victim", "right-password"), BYSTANDER).status_code == 200


def test_wrong_tokens_from_an_address_never_lock_out_a_valid_token():
    # The probe: five bad tokens from one address (a broken bot behind a NAT) made
    # every valid token from that address fail for 15 minutes.
    owner = make_user("owner")
    key = api_token_regenerate(user=owner)
    client = Client()
    for n in range(throttle.TOKEN_FAILURES_PER_ADDRESS):
        response = rest_get(client, f"Token {APIToken.new_key()}")
        assert response.json() == {"detail": "Invalid token."}, n
    # Past the allowance, wrong tokens are told to slow down ...
    refused = rest_get(client, f"Token {APIToken.new_key()}")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Too many invalid tokens; try again later."}
    # ... and the right token from the same address still works.
    assert rest_get(client, f"Token {key}").status_code == 200


def test_token_guesses_do_not_touch_any_password_allowance():
    make_user("victim", password="right-password")
    client = Client()
    for _ in range(throttle.TOKEN_FAILURES_PER_ADDRESS + 1):
        rest_get(client, f"Token {APIToken.new_key()}")
    assert rest_get(client, basic("victim", "right-password")).status_code == 200


def test_failed_logins_at_an_address_do_not_lock_out_its_other_users(client):
    # The probe: 30 failed logins from one address locked every user there.
    make_user("regular", password="regular-password")
    make_user("newcomer", password="newcomer-password")
    assert rest_get(Client(), basic("regular", "regular-password")).status_code == 200
    for n in range(throttle.LOGIN_FAILURES_PER_ADDRESS):
        rest_get(client, basic(f"nobody{n}", "guess"))
    # Someone who logged in from here before still does, by every door.
    assert rest_get(client, basic("regular", "regular-password")).status_code == 200
    login = Client()
    login.post(
        reverse("login"),
        {"username": "regular", "password": "regular-password"},
        REMOTE_ADDR=ATTACKER,
    )
    assert "_auth_user_id" in login.session
    # Spraying further accounts from this address stays refused, right password or not.
    assert rest_get(client, basic("newcomer", "newcomer-password")).status_code == 403
    assert rest_get(client, basic("newcomer", "newcomer-password"), BYSTANDER).status_code == 200


def test_alternating_username_and_email_shares_one_allowance(client):
    make_user("victim", email="victim@example.com", password="right-password")
    for n in range(throttle.LOGIN_FAILURES_PER_USER):
        identifier = "victim" if n % 2 else "Victim@Example.com"
        client.post(
            reverse("login"), {"username": identifier, "password": "guess"}, REMOTE_ADDR=ATTACKER
        )
    for identifier in ("victim", "victim@example.com"):
        response = client.post(
            reverse("login"),
            {"username": identifier, "password": "right-password"},
            REMOTE_ADDR=ATTACKER,
        )
        assert "_auth_user_id" not in client.session
        assert b"Too many failed log-in attempts" in response.content


def test_xmlrpc_basic_auth_guessing_is_throttled(maintainer):
    project = make_project("thr", maintainers=[maintainer])
    patch = make_patch(project)
    client = Client()
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        fault = xmlrpc_patch_set(client, patch.pk, basic("maintainer", "guess"))
        assert isinstance(fault, xmlrpc.client.Fault)
        assert "invalid username or password" in fault.faultString
    fault = xmlrpc_patch_set(client, patch.pk, basic("maintainer", "password"))
    assert isinstance(fault, xmlrpc.client.Fault) and "too many failed logins" in fault.faultString
    patch.refresh_from_db()
    assert not patch.archived
    assert xmlrpc_patch_set(client, patch.pk, basic("maintainer", "password"), BYSTANDER) is True
    patch.refresh_from_db()
    assert patch.archived


def test_wrong_intake_tokens_never_lock_out_the_right_one(settings):
    # The probe: five wrong intake tokens locked out the right one.
    settings.MAIL_INTAKE_TOKEN = "the-intake-token"
    client = Client()
    mail = b"From: a@example.com\nSubject: hi\nMessage-Id: <t@example.com>\n\nbody\n"

    def post(token: str, address: str = ATTACKER):
        return client.post(
            "/mail/",
            mail,
            content_type="message/rfc822",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            REMOTE_ADDR=address,
        )

    for _ in range(throttle.TOKEN_FAILURES_PER_ADDRESS):
        assert post("guess").status_code == 401
    blocked = post("guess")
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": "Too many invalid tokens; try again later."}
    assert not IncomingMail.objects.exists()
    assert post("the-intake-token").status_code == 202
    assert IncomingMail.objects.count() == 1


def _guess_from(client: Client, peer: str, forwarded: str):
    return client.post(
        reverse("login"),
        {"username": "victim", "password": "guess"},
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_a_client_behind_our_proxy_is_counted_by_its_forwarded_address(client):
    make_user("victim", password="right-password")
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        _guess_from(client, "127.0.0.1", ATTACKER)
    assert throttle.login_blocked(throttle.account_key("victim"), ATTACKER)
    # Another client behind the same proxy is not blocked.
    assert not throttle.login_blocked(throttle.account_key("victim"), BYSTANDER)


def test_a_private_network_peer_cannot_rotate_x_forwarded_for_to_dodge_the_throttle(client):
    # The probe: XFF was believed from any loopback or private peer, so a client on a
    # private network rotated it and was never throttled.
    make_user("victim", password="right-password")
    peer = "10.1.2.3"
    for n in range(throttle.LOGIN_FAILURES_PER_USER):
        _guess_from(client, peer, f"203.0.113.{n}")
    response = client.post(
        reverse("login"),
        {"username": "victim", "password": "right-password"},
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert "_auth_user_id" not in client.session
    assert b"Too many failed log-in attempts" in response.content


def test_trusted_proxies_setting_names_the_proxies_believed(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user("victim", password="right-password")
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        _guess_from(client, "10.1.2.3", ATTACKER)
    assert throttle.login_blocked(throttle.account_key("victim"), ATTACKER)
    assert not throttle.login_blocked(throttle.account_key("victim"), "10.1.2.3")
    # Loopback is no longer a proxy here: its header is ignored.
    _guess_from(client, "127.0.0.1", BYSTANDER)
    assert _count_for("127.0.0.1") == 1


def _count_for(address: str) -> int:
    return throttle._count(throttle._key("login-user", throttle.account_key("victim"), address))
