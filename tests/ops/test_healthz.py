"""/healthz: 200 when the instance can work, 503 naming what is down."""

from __future__ import annotations

import socket
import time

import pytest
from django.db import connection
from django.utils import timezone

from apps.mail.models import IncomingMail
from config import heartbeat

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url


@pytest.fixture
def real_topology(settings):
    """As in production: a Redis broker and tasks run by workers, not eagerly."""
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis (set REDIS_URL)")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = heartbeat._client()
    keys = list(client.scan_iter(match=heartbeat.PREFIX + "*"))
    if keys:
        client.delete(*keys)
    yield client
    keys = list(client.scan_iter(match=heartbeat.PREFIX + "*"))
    if keys:
        client.delete(*keys)


def test_healthy_instance_answers_200(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "vendor": connection.vendor}
    assert set(body["checks"]) == {"database", "redis", "broker", "workers", "beat"}
    assert all(check["ok"] for check in body["checks"].values())


def test_redis_and_broker_down_answer_503(client, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["broker"]["ok"] is False
    assert "error" in body["checks"]["broker"]


def test_database_down_answers_503(client, monkeypatch):
    from django.db import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "mail" not in body
    # Details are logged, not shown to whoever asks.
    assert "refused" not in response.content.decode()


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_reports_when_mail_was_last_received_and_ingested(client):
    now = timezone.now()
    IncomingMail.objects.create(raw=b"x", status=IncomingMail.PARSED, received=now, processed=now)
    IncomingMail.objects.create(
        raw=b"y", status=IncomingMail.PENDING, received=now - timezone.timedelta(minutes=5)
    )

    mail = client.get("/healthz").json()["mail"]

    assert mail["last_received"] == now.isoformat()
    assert mail["last_ingested"] == now.isoformat()
    assert 290 <= mail["oldest_pending_seconds"] <= 3600


def test_no_mail_yet(client):
    assert client.get("/healthz").json()["mail"] == {
        "last_received": None,
        "last_ingested": None,
        "oldest_pending_seconds": None,
    }


def test_workers_and_beat_without_heartbeats_are_down(client, real_topology):
    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["workers"] == {"ok": False, "alive": {}}
    assert checks["beat"] == {"ok": False, "age_seconds": None}


def test_fresh_heartbeats_are_healthy_and_stale_ones_are_not(client, real_topology, settings):
    heartbeat.heartbeat_write(heartbeat.BEAT_KEY)
    heartbeat.heartbeat_write(heartbeat.WORKER_PREFIX + "celery@alive")

    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert list(checks["workers"]["alive"]) == ["celery@alive"]
    assert checks["beat"]["ok"] is True

    # A hung beat keeps its key until the TTL, but the age gives it away.
    stale = time.time() - settings.HEARTBEAT_MAX_AGE_SECONDS - 5
    real_topology.set(heartbeat.BEAT_KEY, str(stale))
    real_topology.set(heartbeat.WORKER_PREFIX + "celery@alive", str(stale))

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["beat"]["ok"] is False
    assert checks["workers"] == {"ok": False, "alive": {}}


def test_heartbeats_expire_by_themselves(real_topology, settings):
    heartbeat.heartbeat_write(heartbeat.BEAT_KEY)
    ttl = real_topology.ttl(heartbeat.BEAT_KEY)
    assert 0 < ttl <= settings.HEARTBEAT_MAX_AGE_SECONDS


def test_heartbeat_write_survives_redis_down(redis_down, caplog):
    heartbeat._clients.clear()
    try:
        heartbeat.heartbeat_write(heartbeat.BEAT_KEY)  # must not raise
    finally:
        heartbeat._clients.clear()
    assert any("not written" in r.getMessage() for r in caplog.records)


# --- who sees the details ----------------------------------------------------------------

PUBLIC_CLIENT = "203.0.113.9"


def test_a_remote_client_sees_only_the_status(client):
    # The probe: worker names and mail times were shown to anyone.
    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_CLIENT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_remote_client_behind_our_proxy_sees_only_the_status(client):
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=PUBLIC_CLIENT)
    assert response.json() == {"status": "ok"}


def test_a_remote_client_sees_a_failure_as_503_without_details(client, redis_down):
    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_CLIENT)
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}


def test_the_healthz_token_shows_the_details(client, settings):
    settings.HEALTHZ_TOKEN = "monitoring-secret"
    response = client.get(
        "/healthz", REMOTE_ADDR=PUBLIC_CLIENT, HTTP_AUTHORIZATION="Bearer monitoring-secret"
    )
    assert set(response.json()) == {"status", "checks", "mail"}
    wrong = client.get("/healthz", REMOTE_ADDR=PUBLIC_CLIENT, HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.json() == {"status": "ok"}


def test_a_local_client_sees_the_details(client):
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert set(response.json()) == {"status", "checks", "mail"}
