"""Sending deliveries in-process to a real loopback receiver: retries, backoff, 410, redeliver.

Time is a test clock; the retry schedule is compressed through settings.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.webhooks.delivery import (
    deliveries_requeue,
    delivery_attempt,
    delivery_log_prune,
    retry_delay,
)
from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from apps.webhooks.services import (
    delivery_redeliver,
    webhook_ping,
    webhook_rotate_secret,
    webhook_update,
)
from apps.webhooks.signing import signature_verify

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def webhook(stranger, receiver) -> Webhook:
    return Webhook.objects.create(owner=stranger, url=receiver.url)


def ping(webhook) -> Delivery:
    return webhook_ping(webhook=webhook)


def verify(webhook_secret: str, request) -> bool:
    h = request.headers
    return signature_verify(
        webhook_secret,
        h["webhook-id"],
        int(h["webhook-timestamp"]),
        request.body,
        h["webhook-signature"],
    )


def test_a_ping_arrives_signed_and_is_logged(webhook, receiver, queued, settings):
    settings.SITE_URL = "https://pw.example.org"
    delivery = ping(webhook)
    assert delivery_attempt(delivery_id=delivery.pk).status == Delivery.SUCCEEDED
    (request,) = receiver.requests
    assert verify(webhook.secret, request)
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["x-patchwork-event"] == "ping"
    assert request.headers["user-agent"].startswith("Patchwork-Webhooks/")
    body = json.loads(request.body)
    assert body["category"] == "ping"
    assert body["webhook"] == {
        "id": webhook.pk,
        "url": f"https://pw.example.org/api/webhooks/{webhook.pk}/",
        "target_url": webhook.url,
    }
    (attempt,) = DeliveryAttempt.objects.all()
    assert attempt.response_status == 200 and attempt.response_body == "ok"
    assert attempt.request_headers["webhook-id"] == delivery.message_id
    assert attempt.request_body == request.body.decode()
    assert attempt.error == "" and attempt.number == 1
    assert webhook.secret not in json.dumps(attempt.request_headers)


def test_server_errors_follow_the_compressed_backoff_schedule_then_give_up(
    webhook, receiver, queued, clock, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [10, 60, 300]
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 800
    receiver.default = (500, {}, b"boom")
    delivery = ping(webhook)
    delays = []
    for _ in range(10):
        delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        if delivery.status != Delivery.PENDING:
            break
        delays.append((delivery.next_attempt_at - clock.now).total_seconds())
        clock.now = delivery.next_attempt_at
    assert delivery.status == Delivery.FAILED
    # 10 s, 60 s, then 300 s repeating, each within ±10% jitter, while within 800 s.
    expected = [10, 60, 300, 300]
    assert len(delays) == len(expected)
    for got, want in zip(delays, expected, strict=True):
        assert want * 0.9 <= got <= want * 1.1
    assert delivery.attempts == len(expected) + 1 == len(receiver.requests)
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    assert delivery.last_status == 500 and delivery.last_error == "HTTP 500"
    # Near retries were queued with their countdown; the sweep keeps the far ones.
    assert [round(c) for _, c in queued] == [round(d) for d in delays]


def test_the_default_schedule_is_5s_5min_30min_2h_5h_10h_then_10h(settings):
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000, 36000]
    for attempts, want in enumerate(expected, start=1):
        assert want * 0.9 <= retry_delay(attempts) <= want * 1.1
    assert settings.WEBHOOK_RETRY_WINDOW_SECONDS == 3 * 24 * 3600


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status, webhook, receiver, queued, clock, settings):
    settings.WEBHOOK_RETRY_DELAYS = [5, 300, 1800]
    receiver.respond(status, headers={"Retry-After": "120"})
    receiver.respond(status, headers={"Retry-After": "999999"})
    delivery = ping(webhook)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=120)
    clock.now = delivery.next_attempt_at
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    # Never longer than the longest delay of the schedule.
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=1800)


def test_gone_disables_the_webhook_at_once_and_mails_the_owner(webhook, receiver, queued, stranger):
    receiver.respond(410)
    first, second = ping(webhook), ping(webhook)
    delivery_attempt(delivery_id=first.pk)
    webhook.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert not webhook.active and "410" in webhook.disabled_reason
    assert first.status == Delivery.FAILED and first.attempts == 1
    assert second.status == Delivery.FAILED and "disabled" in second.last_error
    assert delivery_attempt(delivery_id=second.pk) is None
    assert len(receiver.requests) == 1
    (message,) = mail.outbox
    assert message.to == [stranger.email] and webhook.url in message.subject
    assert "410" in message.body and f"/user/webhooks/{webhook.pk}/" in message.body


def test_a_webhook_failing_for_three_days_is_disabled_and_its_owner_mailed(
    webhook, receiver, queued, clock, stranger
):
    receiver.default = (500, {}, b"")
    delivery_attempt(delivery_id=ping(webhook).pk)
    webhook.refresh_from_db()
    assert webhook.active and webhook.failing_since == clock.now
    clock.advance(days=2, hours=23)
    delivery_attempt(delivery_id=ping(webhook).pk)
    webhook.refresh_from_db()
    assert webhook.active and mail.outbox == []
    clock.advance(hours=1)
    delivery_attempt(delivery_id=ping(webhook).pk)
    webhook.refresh_from_db()
    assert not webhook.active and "3 days" in webhook.disabled_reason
    assert "HTTP 500" in webhook.disabled_reason
    assert [m.to for m in mail.outbox] == [[stranger.email]]
    assert not Delivery.objects.filter(status=Delivery.PENDING).exists()


def test_a_success_ends_the_failing_period(webhook, receiver, queued, clock):
    receiver.respond(500)
    delivery_attempt(delivery_id=ping(webhook).pk)
    webhook.refresh_from_db()
    assert webhook.failing_since is not None
    clock.advance(days=2)
    delivery_attempt(delivery_id=ping(webhook).pk)
    webhook.refresh_from_db()
    assert webhook.failing_since is None and webhook.active


def test_redeliver_resends_the_same_id_and_body(
    webhook, receiver, queued, clock, django_capture_on_commit_callbacks
):
    delivery = ping(webhook)
    delivery_attempt(delivery_id=delivery.pk)
    clock.advance(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_redeliver(delivery=delivery)
    assert queued[-1] == (delivery.pk, None)
    delivery_attempt(delivery_id=delivery.pk)
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.message_id
    assert first.body == again.body
    assert verify(webhook.secret, again)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SUCCEEDED and delivery.attempts == 2


def test_redeliver_refuses_a_disabled_webhook_or_a_running_delivery(webhook, queued):
    from django.core.exceptions import ValidationError

    delivery = ping(webhook)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.RUNNING)
    with pytest.raises(ValidationError, match="being sent"):
        delivery_redeliver(delivery=delivery)
    webhook_update(webhook=webhook, active=False)
    with pytest.raises(ValidationError, match="Enable the webhook"):
        delivery_redeliver(delivery=delivery)
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.RUNNING


def test_a_delivery_claimed_once_is_sent_once(webhook, receiver, queued):
    delivery = ping(webhook)
    assert delivery_attempt(delivery_id=delivery.pk) is not None
    assert delivery_attempt(delivery_id=delivery.pk) is None  # the same task again
    assert len(receiver.requests) == 1
    running = ping(webhook)
    Delivery.objects.filter(pk=running.pk).update(status=Delivery.RUNNING)
    assert delivery_attempt(delivery_id=running.pk) is None
    assert len(receiver.requests) == 1


def test_a_retry_is_not_sent_before_it_is_due(webhook, receiver, queued, clock):
    receiver.respond(500)
    delivery = ping(webhook)
    delivery_attempt(delivery_id=delivery.pk)
    assert delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1


def test_the_sweep_queues_lost_deliveries_and_reclaims_dead_workers(webhook, queued, clock):
    fresh = ping(webhook)  # its task was queued a moment ago
    lost = ping(webhook)  # queued, but the broker lost it
    dead = ping(webhook)  # a worker died while sending it
    far = ping(webhook)  # a far retry, never queued
    Delivery.objects.filter(pk=dead.pk).update(status=Delivery.RUNNING, claimed_at=clock.now)
    Delivery.objects.filter(pk=far.pk).update(
        enqueued_at=None, next_attempt_at=clock.now + timedelta(hours=5)
    )
    queued.clear()
    assert deliveries_requeue() == 0
    clock.advance(minutes=6)
    Delivery.objects.filter(pk=fresh.pk).update(enqueued_at=clock.now, next_attempt_at=clock.now)
    assert deliveries_requeue() == 2
    assert sorted(pk for pk, _ in queued) == sorted([lost.pk, dead.pk])
    assert Delivery.objects.get(pk=dead.pk).status == Delivery.PENDING
    queued.clear()
    assert deliveries_requeue() == 0  # queued just now: not again
    clock.advance(hours=5)
    deliveries_requeue()
    assert far.pk in [pk for pk, _ in queued]


def test_rotation_signs_with_both_secrets_during_the_overlap(webhook, receiver, queued, clock):
    old = webhook.secret
    new = webhook_rotate_secret(webhook=webhook, overlap=timedelta(hours=1))
    assert new != old and new.startswith("whsec_")
    delivery_attempt(delivery_id=ping(webhook).pk)
    clock.advance(hours=2)
    delivery_attempt(delivery_id=ping(webhook).pk)
    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split()) == 2
    assert verify(old, during) and verify(new, during)
    assert len(after.headers["webhook-signature"].split()) == 1
    assert verify(new, after) and not verify(old, after)


def test_a_disabled_webhook_gets_nothing(webhook, receiver, queued):
    delivery = ping(webhook)
    Webhook.objects.filter(pk=webhook.pk).update(active=False)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.FAILED and "disabled" in delivery.last_error
    assert receiver.requests == []


def test_a_network_error_is_logged_and_retried(stranger, queued, clock):
    from tests.webhooks.receiver import free_port

    webhook = Webhook.objects.create(owner=stranger, url=f"http://127.0.0.1:{free_port()}/")
    delivery = ping(webhook)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    (attempt,) = DeliveryAttempt.objects.all()
    assert attempt.response_status is None and "ConnectError" in attempt.error
    assert delivery.status == Delivery.PENDING and delivery.attempts == 1


def test_a_target_refused_at_delivery_time_fails_without_retry(
    webhook, receiver, queued, production_targets
):
    delivery = ping(webhook)
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.FAILED and "not allowed" in delivery.last_error
    assert receiver.connections == 0


def test_the_log_is_pruned_after_the_retention_period(webhook, receiver, queued, clock, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 7
    old = ping(webhook)
    delivery_attempt(delivery_id=old.pk)
    pending = ping(webhook)
    clock.advance(days=8)
    recent = ping(webhook)
    delivery_attempt(delivery_id=recent.pk)
    assert delivery_log_prune(batch=1) == 2  # the old attempt, then the old delivery
    assert set(Delivery.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert list(DeliveryAttempt.objects.values_list("delivery", flat=True)) == [recent.pk]


def test_a_webhook_deleted_while_sending_is_no_error(webhook, queued, monkeypatch):
    from apps.webhooks import outbound

    delivery = ping(webhook)

    def post_and_delete(url, **kwargs):
        Webhook.objects.filter(pk=webhook.pk).delete()  # the owner deletes it meanwhile
        return outbound.Outcome(ok=True, status=200)

    monkeypatch.setattr(outbound, "post", post_and_delete)
    assert delivery_attempt(delivery_id=delivery.pk) is None
    assert not Delivery.objects.exists() and not DeliveryAttempt.objects.exists()
