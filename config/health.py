"""GET /healthz: can this instance do its work? JSON, 200 when it can, 503 when it cannot.

Checks the database, Redis, the Celery broker, and that workers and beat are
alive (by their heartbeats, see config/heartbeat.py); reports when mail was last
received and ingested. Without Redis (embedded default: eager tasks, no
workers, no beat) the checks that need it report "skipped".

Only the status is public: the checks (worker names, mail times) go to local
clients (through TRUSTED_PROXIES) and to callers with HEALTHZ_TOKEN.
"""

from __future__ import annotations

import hmac
import logging

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.clientaddr import client_is_local
from apps.mail.models import IncomingMail
from config import heartbeat
from config.celery import app as celery_app

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2


def _failure(name: str, exc: Exception) -> dict:
    # Details go to the log; the public answer names only the kind of failure.
    log.warning("health check %s failed: %s", name, exc)
    return {"ok": False, "error": type(exc).__name__}


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failure("database", exc)
    return {"ok": True, "vendor": connection.vendor}


def check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "skipped": "no REDIS_URL (embedded)"}
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=CHECK_TIMEOUT_SECONDS,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return _failure("redis", exc)
    return {"ok": True}


def check_broker() -> dict:
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return {"ok": True, "skipped": "in-memory broker (embedded)"}
    try:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            # One attempt: a health check must answer, not wait for the broker to return.
            conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return _failure("broker", exc)
    return {"ok": True}


def check_processes() -> tuple[dict, dict]:
    """(workers, beat): alive when their heartbeat is younger than HEARTBEAT_MAX_AGE_SECONDS."""
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        skipped = {"ok": True, "skipped": "tasks run eagerly in the web process"}
        return skipped, skipped
    try:
        beats = heartbeat.heartbeats_read()
    except Exception as exc:
        failed = _failure("heartbeats", exc)
        return failed, failed
    limit = settings.HEARTBEAT_MAX_AGE_SECONDS
    alive = {name: age for name, age in beats["workers"].items() if age <= limit}
    workers = {"ok": bool(alive), "alive": alive}
    beat_age = beats["beat"]
    beat = {"ok": beat_age is not None and beat_age <= limit, "age_seconds": beat_age}
    return workers, beat


def mail_status() -> dict:
    """When mail last arrived and was ingested, and how much waits (informative only)."""
    try:
        last = IncomingMail.objects.aggregate(received=Max("received"), processed=Max("processed"))
        pending = IncomingMail.objects.filter(status=IncomingMail.PENDING).aggregate(
            oldest=Min("received")
        )
    except Exception as exc:
        return _failure("mail", exc)
    oldest = pending["oldest"]
    return {
        "last_received": last["received"].isoformat() if last["received"] else None,
        "last_ingested": last["processed"].isoformat() if last["processed"] else None,
        "oldest_pending_seconds": round((timezone.now() - oldest).total_seconds())
        if oldest
        else None,
    }


def _may_see_details(request) -> bool:
    if client_is_local(request):
        return True
    token = settings.HEALTHZ_TOKEN
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
def healthz(request):
    """Health of the instance and the services it needs: 200 if all are fine, else 503."""
    workers, beat = check_processes()
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "broker": check_broker(),
        "workers": workers,
        "beat": beat,
    }
    healthy = all(check["ok"] for check in checks.values())
    body: dict = {"status": "ok" if healthy else "fail"}
    if _may_see_details(request):
        body["checks"] = checks
        if checks["database"]["ok"]:
            body["mail"] = mail_status()
    return JsonResponse(body, status=200 if healthy else 503)
