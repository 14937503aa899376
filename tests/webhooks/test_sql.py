"""The fast path (apps/webhooks/sql.py) writes exactly what the plain Django path writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from apps.webhooks import sql
from apps.webhooks.delivery import CLOCK_SLACK, _log_and_finish_orm
from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from apps.webhooks.services import webhook_ping

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"),
]


def attempt_and_updates(now):
    attempt = {
        "number": 2,
        "started": now,
        "duration_ms": 37,
        "request_headers": {"webhook-id": "msg_x", "content-type": "application/json"},
        "request_body": '{"category":"ping","ünï":"cödé"}',
        "response_status": 503,
        "response_headers": {"retry-after": "2"},
        "response_body": "busy",
        "error": "HTTP 503",
    }
    updates = {
        "status": Delivery.PENDING,
        "attempts": 2,
        "last_status": 503,
        "last_error": "HTTP 503",
        "next_attempt_at": now + timedelta(seconds=2),
        "enqueued_at": now + timedelta(seconds=2),
        "body": '{"category":"ping","ünï":"cödé"}',
    }
    return attempt, updates


def written(delivery: Delivery) -> tuple[dict, list[dict]]:
    delivery.refresh_from_db()
    row = model_to_dict(delivery, exclude=["id", "message_id", "webhook", "created"])
    attempts = [
        model_to_dict(a, exclude=["id", "delivery"]) for a in delivery.attempt_log.order_by("id")
    ]
    return row, attempts


def test_the_fast_path_writes_what_the_plain_path_writes(stranger):
    webhook = Webhook.objects.create(owner=stranger, url="http://127.0.0.1:9/hook")
    plain, fast = webhook_ping(webhook=webhook), webhook_ping(webhook=webhook)
    now = timezone.now()
    Delivery.objects.filter(pk__in=[plain.pk, fast.pk]).update(created=now, give_up_at=now)

    assert _log_and_finish_orm(plain, *attempt_and_updates(now))
    assert sql.log_and_finish(fast.pk, *attempt_and_updates(now))
    assert written(fast) == written(plain)
    assert written(fast)[0]["status"] == Delivery.PENDING and len(written(fast)[1]) == 1


def test_the_fast_path_writes_nothing_for_a_delivery_that_is_gone(stranger):
    webhook = Webhook.objects.create(owner=stranger, url="http://127.0.0.1:9/hook")
    gone = webhook_ping(webhook=webhook)
    Delivery.objects.filter(pk=gone.pk).delete()
    assert not sql.log_and_finish(gone.pk, *attempt_and_updates(timezone.now()))
    assert not _log_and_finish_orm(gone, *attempt_and_updates(timezone.now()))
    assert not DeliveryAttempt.objects.exists()


def test_the_pending_delivery_is_read_as_the_orm_reads_it(stranger, project):
    webhook = Webhook.objects.create(
        owner=stranger, url="http://127.0.0.1:9/hook", categories=["patch-created"]
    )
    webhook.projects.set([project])
    delivery = webhook_ping(webhook=webhook)
    Delivery.objects.filter(pk=delivery.pk).update(body='{"ü":1}', give_up_at=None)

    fast = sql.delivery_pending(delivery.pk)
    plain = Delivery.objects.select_related("webhook").get(pk=delivery.pk)
    assert model_to_dict(fast) == model_to_dict(plain)
    assert model_to_dict(fast.webhook, exclude=["projects"]) == model_to_dict(
        plain.webhook, exclude=["projects"]
    )
    assert fast.webhook.categories == ["patch-created"] and fast.created == plain.created
    assert fast.created.tzinfo is not None

    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.RUNNING)
    assert sql.delivery_pending(delivery.pk) is None


@pytest.mark.parametrize(
    "change, claimed",
    [
        ({}, True),
        ({"attempts": 1}, False),  # attempted meanwhile
        ({"give_up_at": timedelta(days=1)}, False),  # redelivered meanwhile
        ({"status": Delivery.RUNNING}, False),
        ({"next_attempt_at": timedelta(minutes=1)}, False),  # not due
    ],
)
def test_the_claim_takes_what_the_orm_claim_takes(stranger, change, claimed):
    webhook = Webhook.objects.create(owner=stranger, url="http://127.0.0.1:9/hook")
    results = []
    for fast in (True, False):
        delivery = webhook_ping(webhook=webhook)
        seen = Delivery.objects.get(pk=delivery.pk)
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk).update(
            **{k: now + v if isinstance(v, timedelta) else v for k, v in change.items()}
        )
        if fast:
            results.append(sql.claim(seen, now, now + CLOCK_SLACK))
        else:
            due = Delivery.objects.filter(
                pk=seen.pk,
                status=Delivery.PENDING,
                next_attempt_at__lte=now + CLOCK_SLACK,
                attempts=seen.attempts,
                give_up_at=seen.give_up_at,
            )
            results.append(due.update(status=Delivery.RUNNING, claimed_at=now) == 1)
        delivery.refresh_from_db()
        assert (delivery.claimed_at == now) == results[-1]
    assert results == [claimed, claimed]


def test_the_many_claim_takes_what_one_claim_at_a_time_takes(stranger):
    """One statement for an event's fan-out takes exactly the deliveries that the
    single claim would, each judged against the row as it was read."""
    webhook = Webhook.objects.create(owner=stranger, url="http://127.0.0.1:9/hook")
    changes = [{}, {"attempts": 1}, {"give_up_at": timedelta(days=1)}, {}, {"status": "running"}]
    outcomes = []
    for many in (True, False):
        seen = []
        now = timezone.now()
        for change in changes:
            delivery = webhook_ping(webhook=webhook)
            seen.append(Delivery.objects.get(pk=delivery.pk))
            Delivery.objects.filter(pk=delivery.pk).update(
                **{k: now + v if isinstance(v, timedelta) else v for k, v in change.items()}
            )
        if many:
            taken = sql.claim_many(seen, now, now + CLOCK_SLACK)
        else:
            taken = {d.pk for d in seen if sql.claim(d, now, now + CLOCK_SLACK)}
        outcomes.append([d.pk in taken for d in seen])
        running = Delivery.objects.filter(pk__in=[d.pk for d in seen], claimed_at=now)
        assert set(running.values_list("pk", flat=True)) == taken
    assert outcomes[0] == outcomes[1] == [True, False, False, True, False]


def test_logging_many_attempts_writes_what_the_plain_path_writes_for_each(stranger):
    webhook = Webhook.objects.create(owner=stranger, url="http://127.0.0.1:9/hook")
    now = timezone.now()
    plain = [webhook_ping(webhook=webhook) for _ in range(3)]
    fast = [webhook_ping(webhook=webhook) for _ in range(3)]
    gone = webhook_ping(webhook=webhook)
    everything = [*plain, *fast, gone]
    Delivery.objects.filter(pk__in=[d.pk for d in everything]).update(created=now, give_up_at=now)
    Delivery.objects.filter(pk=gone.pk).delete()

    for delivery in plain:
        assert _log_and_finish_orm(delivery, *attempt_and_updates(now))
    written_ids = sql.log_and_finish_many(
        [(d.pk, *attempt_and_updates(now)) for d in [*fast, gone]]
    )
    assert written_ids == {d.pk for d in fast}  # not the one deleted meanwhile
    for one, other in zip(plain, fast, strict=True):
        assert written(other) == written(one)
    assert DeliveryAttempt.objects.count() == 6
