"""A real celery worker subprocess on the test database and the test Redis."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.webhooks.models import Delivery, Webhook
from apps.webhooks.services import webhook_create

BASE_DIR = Path(__file__).resolve().parents[2]

SERVICES = bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
)
SKIP_REASON = (
    "needs a real Redis broker and PostgreSQL for a celery worker process (set REDIS_URL and "
    "DATABASE_URL); the embedded run delivers eagerly in test_event_payloads.py instead"
)


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll the database until condition() holds (bounded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        connection.close()  # see the worker's commits
        time.sleep(0.1)


def statuses() -> list[str]:
    return list(Delivery.objects.order_by("id").values_list("status", flat=True))


def database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """The webhooks worker as deployed (the `webhooks` queue, a thread pool, pooled
    database connections: see Procfile) in its own process group."""

    def __init__(self, **env: str) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "1",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",  # the receiver is on 127.0.0.1
            "SITE_URL": settings.SITE_URL,
            "LOG_LEVEL": "INFO",
            "DATABASE_POOL_SIZE": "4",
            **env,
        }
        self.log = tempfile.NamedTemporaryFile(prefix="webhook-worker-", suffix=".log")
        self.process: subprocess.Popen | None = None
        self._ready = threading.Event()

    def start(self, timeout: float = 60) -> Worker:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "webhooks",
                "--pool=threads",
                "--concurrency=20",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"webhooks-test-{uuid.uuid4().hex[:8]}@localhost",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() gets all of it
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise AssertionError(f"the celery worker did not start:\n{self.output()}")
        return self

    def _pump(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.log.write(line)
            self.log.flush()
            if b" ready." in line:
                self._ready.set()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-5000:]

    def tasks_received(self, name: str) -> int:
        """How many tasks of this name the worker has received (its INFO log says each)."""
        log = Path(self.log.name).read_text(errors="replace")
        return len(re.findall(rf"Task {re.escape(name)}\[[^]]*\] received", log))

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, as a crash or OOM would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def subscribe(owner, url: str):
    """An active webhook, without the ping creating one sends."""
    webhook, _ = webhook_create(owner=owner, url=url, active=False)
    Webhook.objects.filter(pk=webhook.pk).update(active=True)
    return webhook


def pending_delivery(webhook: Webhook) -> Delivery:
    """A delivery due now, as an event or a ping leaves it (queued, not yet sent)."""
    now = timezone.now()
    return Delivery.objects.create(
        webhook=webhook,
        category="ping",
        next_attempt_at=now,
        enqueued_at=now,
        give_up_at=now + timedelta(days=1),
    )


def task_ids(args: tuple) -> list[int]:
    """The delivery ids a queued `deliver` task carries (one id, or an event's fan-out)."""
    first = args[0]
    return list(first) if isinstance(first, list) else [first]
