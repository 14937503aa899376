"""Webhook SSRF: every interface refuses internal targets; delivery never connects to one.

A guard makes any connection to a non-loopback address fail the test, so
nothing here can leave the machine whatever the code under test does.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from apps.webhooks import outbound
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import Delivery, Webhook
from apps.webhooks.services import webhook_ping
from tests.factories import make_user

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0:22/",
    # Other spellings of 127.0.0.1 that resolvers accept (inet_aton forms).
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    # IPv6 forms that carry an internal IPv4 address (the probe found these passing):
    # NAT64 well-known and local-use prefixes, 6to4, IPv4-compatible, IPv4-mapped.
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "http://[64:ff9b:1::a01:203]/",
    "http://[64:ff9b:1:ffff::808:808]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[::127.0.0.1]/",
    "http://[::10.1.2.3]/",
    "http://[::ffff:127.0.0.1]/",
]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail on any attempt to connect anywhere but loopback; record every attempt (but the
    Redis server's: the first test to use it in a process opens its connection)."""
    attempts = []
    real_connect = socket.socket.connect
    redis = urlsplit(settings.REDIS_URL or "redis://-")
    redis_address = (redis.hostname, redis.port or 6379)

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if not (isinstance(address, tuple) and tuple(address[:2]) == redis_address):
            attempts.append(host)
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"tried to connect to {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


def numeric_only_resolver(host: str, port: int) -> list[str]:
    # The system's parsing of numeric hosts (no DNS query); names other than localhost fail.
    if host == "localhost":
        return ["127.0.0.1", "::1"]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return [info[4][0] for info in infos]


@pytest.fixture(autouse=True)
def resolver(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", numeric_only_resolver)


@pytest.mark.parametrize("url", INTERNAL)
def test_rest_refuses_internal_targets(url, production, loopback_only):
    client = Client()
    client.force_login(make_user("hooker"))
    response = client.post(
        "/api/1.4/webhooks/", {"target_url": url}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "target_url" in response.json()
    assert not Webhook.objects.exists()
    assert loopback_only == []


def test_the_profile_form_refuses_internal_targets(production, loopback_only):
    client = Client()
    client.force_login(make_user("hooker"))
    response = client.post("/user/webhooks/add/", {"url": "http://169.254.169.254/x"})
    assert response.status_code == 200  # the form again, with the reason
    assert "not allowed" in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", INTERNAL)
def test_delivery_to_an_internal_target_fails_permanently_without_connecting(
    url, production, loopback_only
):
    # Stored while private targets were allowed (or rebound since): delivery still refuses.
    webhook = Webhook.objects.create(owner=make_user("hooker"), url=url)
    webhook_ping(webhook=webhook)
    delivery = Delivery.objects.get(webhook=webhook)
    if delivery.status == Delivery.PENDING:  # not already attempted eagerly
        delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.FAILED
    assert "not allowed" in delivery.last_error
    assert loopback_only == []


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2001:4860:4860::8888"],
)
def test_ipv6_forms_of_a_public_ipv4_address_stay_allowed(address):
    assert outbound.address_is_public(address)
