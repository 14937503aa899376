"""Password and token guessing is throttled on every door: login form, REST, XML-RPC, mail intake."""

from __future__ import annotations

import base64
import xmlrpc.client

import pytest
from django.test import Client
from django.urls import reverse

from apps.projects.accounts import throttle
from apps.projects.models import APIToken
from apps.projects.services import api_token_regenerate
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


def test_rest_token_guessing_is_throttled_per_client_address():
    owner = make_user("owner")
    key = api_token_regenerate(user=owner)
    client = Client()
    for n in range(throttle.LOGIN_FAILURES_PER_USER):
        guess = APIToken.new_key()
        response = rest_get(client, f"Token {guess}")
        assert response.json() == {"detail": "Invalid token."}, n
    # Even the right token is no longer checked from that address: guessing stops here.
    blocked = rest_get(client, f"Token {key}")
    assert blocked.status_code == 403
    assert blocked.json() == {"detail": "Too many invalid tokens; try again later."}
    assert rest_get(client, f"Token {key}", BYSTANDER).status_code == 200


def test_token_guesses_count_towards_the_address_login_budget():
    make_user("victim", password="right-password")
    client = Client()
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        rest_get(client, f"Token {APIToken.new_key()}")
    assert throttle.login_blocked("\x00api-token", ATTACKER)
    assert not throttle.login_blocked("victim", ATTACKER)  # per-user budget untouched


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


def test_mail_intake_token_guessing_is_throttled(settings):
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

    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        assert post("guess").status_code == 401
    blocked = post("the-intake-token")
    assert blocked.status_code == 429
    assert blocked.json() == {"detail": "Too many invalid tokens; try again later."}
    from apps.mail.models import IncomingMail

    assert not IncomingMail.objects.exists()
    assert post("the-intake-token", BYSTANDER).status_code == 202
    assert IncomingMail.objects.count() == 1


def test_a_client_behind_our_proxy_is_counted_by_its_forwarded_address():
    owner = make_user("owner")
    key = api_token_regenerate(user=owner)
    client = Client()
    for _ in range(throttle.LOGIN_FAILURES_PER_USER):
        client.get(
            "/api/1.4/users/",
            HTTP_AUTHORIZATION=f"Token {APIToken.new_key()}",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=ATTACKER,
        )
    # Another client behind the same proxy is not blocked; a forged header from outside
    # does not pick someone else's budget either.
    ok = client.get(
        "/api/1.4/users/",
        HTTP_AUTHORIZATION=f"Token {key}",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=BYSTANDER,
    )
    assert ok.status_code == 200
    forged = client.get(
        "/api/1.4/users/",
        HTTP_AUTHORIZATION=f"Token {key}",
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR=BYSTANDER,
    )
    assert forged.status_code == 403
