"""A slot freed on a busy host goes to the next delivery in the host's line, sent by the
sender that held it: a burst to one host drains without a task per waiting delivery,
never more than the cap at once, each delivery once; a line whose worker died is swept.
(On the real worker, with a count of the tasks it ran: test_isolation.py.)"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.webhooks import hostcap
from apps.webhooks.delivery import REQUEUE_AFTER, deliveries_attempt, deliveries_requeue
from apps.webhooks.models import Delivery, Webhook
from tests.webhooks.receiver import Receiver
from tests.webhooks.worker import pending_delivery

pytestmark = pytest.mark.django_db(transaction=True)  # senders run in threads of their own

CAP = 2
HOST = "127.0.0.1"


class Sender(threading.Thread):
    """A task of the webhooks worker: deliveries_attempt in a thread of its own."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        super().__init__()
        self.ids = [d.pk for d in deliveries]
        self.sent: dict[int, Delivery] = {}

    def run(self) -> None:
        try:
            self.sent = deliveries_attempt(delivery_ids=self.ids)
        finally:
            connection.close()


@pytest.fixture
def held(settings, stranger):
    """A webhook on a receiver that holds its requests, and CAP sender threads' slots."""
    settings.WEBHOOK_HOST_CONCURRENCY = CAP
    settings.WEBHOOK_SENDERS = 4
    receiver = Receiver(host=HOST).start()
    receiver.hold.clear()
    yield receiver, Webhook.objects.create(owner=stranger, url=receiver.url)
    receiver.stop()


def statuses(deliveries: list[Delivery]) -> list[str]:
    ids = [d.pk for d in deliveries]
    return list(Delivery.objects.filter(pk__in=ids).order_by("pk").values_list("status", flat=True))


def slots_held_by(receiver: Receiver, deliveries: list[Delivery]) -> Sender:
    """A sender of these deliveries, their POSTs held by the receiver (each holds a slot)."""
    sender = Sender(deliveries)
    sender.start()
    receiver.wait_for(len(deliveries))
    return sender


def test_a_burst_to_one_host_is_sent_by_the_senders_holding_its_slots(backend, held, queued):
    receiver, webhook = held
    first = [pending_delivery(webhook) for _ in range(CAP)]
    sender = slots_held_by(receiver, first)
    burst = [pending_delivery(webhook) for _ in range(10)]
    for delivery in burst:  # one task an event: each finds the host busy and waits in line
        assert deliveries_attempt(delivery_ids=[delivery.pk]) == {}
    assert statuses(burst) == ["pending"] * 10

    receiver.hold.set()
    sender.join(timeout=30)
    assert not sender.is_alive()
    # The sender whose slots freed sent the whole line, and not one task was queued for it.
    assert set(sender.sent) == {d.pk for d in first + burst}
    assert queued == []
    assert statuses(first + burst) == ["succeeded"] * 12
    assert len(receiver.requests) == 12
    assert receiver.most_in_flight == CAP  # the cap, never more
    # The line is empty: its slots were given back.
    assert hostcap.slot_take(HOST, 1) and hostcap.slot_take(HOST, 2)


def test_a_delivery_that_waited_in_line_twice_is_sent_once(backend, held, queued):
    """The sweep may queue a waiting delivery again: it joins the line twice, and the
    second time its turn comes it has been sent already."""
    receiver, webhook = held
    sender = slots_held_by(receiver, [pending_delivery(webhook) for _ in range(CAP)])
    twice, after = pending_delivery(webhook), pending_delivery(webhook)
    for delivery in (twice, twice, after):
        assert deliveries_attempt(delivery_ids=[delivery.pk]) == {}

    receiver.hold.set()
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert {twice.pk, after.pk} <= set(sender.sent)
    assert statuses([twice, after]) == ["succeeded"] * 2
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == CAP + 2 and ids.count(twice.message_id) == 1
    assert queued == []


def test_a_line_whose_worker_died_is_queued_again_by_the_sweep(
    backend, settings, stranger, receiver, queued, monkeypatch
):
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    lease = [0.3]
    monkeypatch.setattr(hostcap, "lease_seconds", lambda: lease[0])
    webhook = Webhook.objects.create(owner=stranger, url=receiver.url)
    assert hostcap.slot_take(HOST, 999)  # a worker sending to the host dies: never passed on
    stranded = [pending_delivery(webhook) for _ in range(3)]
    for delivery in stranded:
        assert deliveries_attempt(delivery_ids=[delivery.pk]) == {}
    time.sleep(0.5)  # the dead worker's slot is free again; nobody sends its line
    lease[0] = 60

    assert deliveries_requeue(now=timezone.now() + REQUEUE_AFTER + timedelta(seconds=1)) == 3
    assert sorted(pk for pk, _ in queued) == [d.pk for d in stranded]

    # The task the sweep queued: one of them takes the free slot, the others join the
    # line again behind their stale places, and all go once.
    deliveries_attempt(delivery_ids=[pk for pk, _ in queued])
    assert statuses(stranded) == ["succeeded"] * 3
    assert len(receiver.requests) == 3
    assert hostcap.slot_take(HOST, 1)  # the line emptied, the slot given back
