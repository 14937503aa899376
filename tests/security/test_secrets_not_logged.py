"""Secrets never reach the logs: passwords, API tokens, webhook secrets, the mail intake token.

Every log record of the scenarios below is formatted both ways the instance
can log (plain and JSON, extras included) and searched for each secret.
"""

from __future__ import annotations

import base64
import io
import logging
import xmlrpc.client

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.services import api_token_regenerate
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import Delivery, Webhook
from config.logformat import JsonFormatter
from tests.factories import make_patch, make_project, make_user
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db

PASSWORD = "Very-Secret-Passw0rd"


@pytest.fixture
def captured():
    """Everything logged at DEBUG and above, formatted as plain text and as JSON."""
    stream = io.StringIO()
    handlers = []
    for formatter in (logging.Formatter("%(name)s %(message)s %(args)s"), JsonFormatter()):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(old_level)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_no_secret_is_logged(captured, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on 127.0.0.1
    settings.MAIL_INTAKE_TOKEN = "intake-token-do-not-log"
    user = make_user("alice", password=PASSWORD)
    patch = make_patch(make_project("logs", maintainers=[user]))
    token = api_token_regenerate(user=user)
    secrets = {"password": PASSWORD, "token": token, "intake": settings.MAIL_INTAKE_TOKEN}
    client = Client()

    # Logins: right and wrong, by form, REST Basic and XML-RPC Basic.
    client.post("/user/login/", {"username": "alice", "password": PASSWORD + "x"})
    client.post("/user/login/", {"username": "alice", "password": PASSWORD})
    Client().get("/api/1.4/users/", HTTP_AUTHORIZATION=basic("alice", PASSWORD + "x"))
    Client().get("/api/1.4/users/", HTTP_AUTHORIZATION=basic("alice", PASSWORD))
    body = xmlrpc.client.dumps((patch.pk, {"archived": True}), "patch_set")
    for password in (PASSWORD + "x", PASSWORD):
        Client().post(
            "/xmlrpc/", body, content_type="text/xml", HTTP_AUTHORIZATION=basic("alice", password)
        )
    # Tokens: right and wrong, and a token-authenticated write.
    Client().get("/api/1.4/users/", HTTP_AUTHORIZATION=f"Token {token[:-1]}0")
    Client().patch(
        f"/api/1.4/patches/{patch.pk}/",
        {"state": "accepted"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    # Mail intake: wrong token, then right.
    for intake in ("wrong", settings.MAIL_INTAKE_TOKEN):
        Client().post(
            "/mail/",
            b"garbage",
            content_type="message/rfc822",
            HTTP_AUTHORIZATION=f"Bearer {intake}",
        )
    # Webhooks: created (REST and form), delivered to a receiver that fails, then succeeds.
    receiver = Receiver().start()
    try:
        receiver.respond(500)
        created = Client()
        created.force_login(user)
        response = created.post(
            "/api/1.4/webhooks/", {"target_url": receiver.url}, content_type="application/json"
        )
        secrets["webhook"] = response.json()["secret"]
        created.post("/user/webhooks/add/", {"url": receiver.url + "2"})
        secrets["webhook2"] = Webhook.objects.get(url=receiver.url + "2").secret
        rotated = created.post(
            f"/api/1.4/webhooks/{response.json()['id']}/rotate-secret/",
            {},
            content_type="application/json",
        )
        secrets["rotated"] = rotated.json()["secret"]
        # Deliver (the pings): the first attempt fails, the retry succeeds.
        for _ in range(2):
            Delivery.objects.filter(status=Delivery.PENDING).update(next_attempt_at=timezone.now())
            for delivery_id in Delivery.objects.values_list("pk", flat=True):
                delivery_attempt(delivery_id=delivery_id)
        assert receiver.requests and Delivery.objects.filter(status=Delivery.SUCCEEDED).exists()
    finally:
        receiver.stop()

    logged = captured.getvalue()
    assert logged  # the scenarios did log (refusals, failures), so the search means something
    for name, secret in secrets.items():
        assert secret and secret not in logged, f"the {name} was logged"
        raw = secret.removeprefix("whsec_")
        assert raw not in logged, f"the {name} was logged"
    assert basic("alice", PASSWORD).split()[1] not in logged
