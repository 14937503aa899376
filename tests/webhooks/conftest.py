"""Fixtures for webhook tests: a real loopback receiver, a stub resolver, production safety."""

from __future__ import annotations

import httpx
import pytest

from apps.webhooks import hostcap, outbound, tasks
from config.celery import app
from tests.webhooks.receiver import Receiver
from tests.webhooks.worker import task_ids


class StubResolver:
    """Resolves only the names a test gives it; nothing is ever looked up for real."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.names:
            raise OSError(f"stub resolver: unknown name {host}")
        return list(self.names[host])


@pytest.fixture(autouse=True)
def no_busy_hosts():
    """Every test starts with every receiver host's slots free (no lease left by the last)
    and no connection kept open to the last test's receivers."""
    hostcap.hosts_forget()
    outbound.clients_forget()
    yield
    hostcap.hosts_forget()
    outbound.clients_forget()


@pytest.fixture(autouse=True)
def resolver(monkeypatch) -> StubResolver:
    stub = StubResolver()
    monkeypatch.setattr(outbound, "resolve", stub)
    return stub


@pytest.fixture(params=["redis", "in-process"])
def backend(request, settings):
    """The host cap's bookkeeping in Redis (as deployed), then in the process (embedded)."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("needs a real Redis (set REDIS_URL)")
    if request.param == "in-process":
        settings.REDIS_URL = ""
    hostcap.hosts_forget()
    yield request.param
    hostcap.hosts_forget()


@pytest.fixture
def queued(monkeypatch):
    """Delivery tasks queued (ids and countdowns), instead of running them."""
    calls: list[tuple[int, float | None]] = []
    monkeypatch.setattr(
        tasks.deliver,
        "apply_async",
        lambda args, **kw: calls.extend((pk, kw["countdown"]) for pk in task_ids(args)),
    )
    return calls


@pytest.fixture
def receiver():
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def production_targets(settings):
    """Production's default: private, loopback, link-local and multicast targets refused."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.fixture
def no_connections(monkeypatch):
    """Fail the test if anything tries to open an HTTP connection."""
    attempts: list[str] = []

    def refuse(self, request, **kwargs):
        attempts.append(str(request.url))
        raise AssertionError(f"a connection was attempted to {request.url}")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    return attempts


@pytest.fixture
def through_the_broker(settings):
    """Queue tasks in Redis from this process, as the web and mail processes do."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()  # stale tasks from an earlier run
    yield
    app.conf.task_always_eager = eager
    app.control.purge()
