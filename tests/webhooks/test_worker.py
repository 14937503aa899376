"""Delivery through the real topology: Redis broker, a celery worker process, a receiver.

The worker runs on the test database with a compressed retry schedule; these tests
need PostgreSQL and Redis (the real-services run) and are skipped on the embedded run.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.webhooks.models import Delivery, DeliveryAttempt
from apps.webhooks.services import delivery_redeliver, webhook_create
from apps.webhooks.signing import signature_verify
from config.celery import app
from tests.factories import make_patch, make_series
from tests.webhooks.receiver import Receiver, free_port
from tests.webhooks.schema import validate_event
from tests.webhooks.worker import SERVICES, SKIP_REASON, Worker, statuses, wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL
        or not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="needs a real Redis broker and PostgreSQL for a celery worker process "
        "(set REDIS_URL and DATABASE_URL); the embedded run delivers eagerly in "
        "test_event_payloads.py instead",
    ),
]


@pytest.fixture(autouse=True)
def through_the_broker(settings):
    """Queue tasks in Redis from this process, as the web and mail processes do."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()  # stale tasks from an earlier run
    yield
    app.conf.task_always_eager = eager
    app.control.purge()


@pytest.fixture(scope="module")
def worker(django_db_setup):
    """One worker for the module (starting one takes seconds); it only reads the DB name."""
    if not SERVICES:
        pytest.skip(SKIP_REASON)
    started = Worker(WEBHOOK_RETRY_DELAYS="1,1,2").start()
    yield started
    started.stop()


def test_ci_events_arrive_signed_through_redis_and_a_worker(worker, maintainer, project):
    receiver = Receiver().start()
    try:
        webhook, secret = webhook_create(owner=maintainer, url=receiver.url)
        series = make_series(project)
        patch = make_patch(project, series=series)
        event_record(category=Event.PATCH_COMPLETED, project=project, patch=patch, series=series)
        event_record(category=Event.SERIES_COMPLETED, project=project, series=series)
        check_create(patch=patch, user=maintainer, state="success", context="ci")
        requests = receiver.wait_for(4)
        by_category = {r.headers["x-patchwork-event"]: r for r in requests}
        assert set(by_category) == {"ping", "patch-completed", "series-completed", "check-created"}
        for request in requests:
            h = request.headers
            assert signature_verify(
                secret,
                h["webhook-id"],
                int(h["webhook-timestamp"]),
                request.body,
                h["webhook-signature"],
            )
            if h["x-patchwork-event"] != "ping":
                validate_event(json.loads(request.body))
        wait_until(lambda: statuses() == ["succeeded"] * 4, what="4 deliveries succeeded")

        # Redeliver through the broker: the same id comes again.
        delivery = Delivery.objects.get(category="check-created")
        delivery_redeliver(delivery=delivery)
        again = receiver.wait_for(5)[-1]
        assert again.headers["webhook-id"] == delivery.message_id
        assert again.body == by_category["check-created"].body
    finally:
        receiver.stop()


def test_a_receiver_down_then_back_gets_every_event(worker, maintainer, project):
    port = free_port()
    webhook, _ = webhook_create(owner=maintainer, url=f"http://127.0.0.1:{port}/hook")
    patch = make_patch(project)
    for _ in range(5):
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    wait_until(
        lambda: not Delivery.objects.filter(attempts=0).exists(),
        what="every delivery tried once against the closed port",
    )
    assert not Delivery.objects.filter(status=Delivery.SUCCEEDED).exists()
    receiver = Receiver(port).start()  # back up, on the same port
    try:
        wait_until(lambda: statuses() == ["succeeded"] * 6, what="every delivery succeeded")
        expected = set(Delivery.objects.values_list("message_id", flat=True))
        assert {r.headers["webhook-id"] for r in receiver.requests} == expected
        errors = DeliveryAttempt.objects.exclude(error="").values_list("error", flat=True)
        assert errors and all("ConnectError" in e for e in errors)
    finally:
        receiver.stop()


def test_server_errors_are_retried_by_the_worker_until_success(worker, maintainer, project):
    receiver = Receiver().start()
    try:
        webhook, _ = webhook_create(owner=maintainer, url=receiver.url, active=False)
        webhook.active = True
        webhook.save(update_fields=["active"])
        receiver.respond(500, 503)
        event_record(category=Event.PATCH_CREATED, project=project, patch=make_patch(project))
        requests = receiver.wait_for(3)
        wait_until(lambda: statuses() == ["succeeded"], what="the delivery succeeded")
        delivery = Delivery.objects.get()
        assert {r.headers["webhook-id"] for r in requests} == {delivery.message_id}
        log = list(
            DeliveryAttempt.objects.order_by("number").values_list("response_status", flat=True)
        )
        assert log == [500, 503, 200] and delivery.attempts == 3
    finally:
        receiver.stop()
