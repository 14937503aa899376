"""An event's fan-out is one task: its POSTs go out together on the sender threads, and
each is logged as it ends, so a hanging receiver delays none of the others."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from apps.webhooks.delivery import deliveries_attempt
from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from tests.webhooks.receiver import Receiver
from tests.webhooks.worker import pending_delivery

pytestmark = pytest.mark.django_db(transaction=True)  # the task runs in a thread of its own


def status(delivery: Delivery) -> str:
    return Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)


def test_a_hanging_receiver_in_a_fan_out_delays_none_of_the_others(settings, stranger):
    settings.WEBHOOK_SENDERS = 4
    slow, fast = Receiver(host="127.0.0.2").start(), Receiver().start()
    slow.hold.clear()  # answers when the test lets it (or after 60 s)
    try:
        hanging = pending_delivery(Webhook.objects.create(owner=stranger, url=slow.url))
        others = [
            pending_delivery(Webhook.objects.create(owner=stranger, url=fast.url)) for _ in range(3)
        ]
        results: list[dict] = []

        def task() -> None:
            try:
                ids = [hanging.pk, *(d.pk for d in others)]  # the hanging one first
                results.append(deliveries_attempt(delivery_ids=ids))
            finally:
                connection.close()

        thread = threading.Thread(target=task)
        thread.start()
        deadline = time.monotonic() + 30
        while any(status(d) != Delivery.SUCCEEDED for d in others):
            assert time.monotonic() < deadline, "the others waited for the hanging receiver"
            time.sleep(0.05)
        # Sent and logged while the hanging receiver still holds its request.
        assert len(fast.requests) == 3 and slow.in_flight == 1
        assert status(hanging) == Delivery.RUNNING
        assert DeliveryAttempt.objects.filter(delivery__in=others).count() == 3
    finally:
        slow.hold.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert status(hanging) == Delivery.SUCCEEDED
    assert set(results[0]) == {hanging.pk, *(d.pk for d in others)}
    slow.stop()
    fast.stop()


def test_one_connection_carries_a_receivers_deliveries_one_after_another(settings, stranger):
    """Each receiver keeps its client: the next POST reuses the open connection."""
    receiver = Receiver(keep_alive=True).start()
    try:
        webhook = Webhook.objects.create(owner=stranger, url=receiver.url)
        for _ in range(3):
            deliveries_attempt(delivery_ids=[pending_delivery(webhook).pk])
        assert len(receiver.requests) == 3
        assert receiver.connections == 1
    finally:
        receiver.stop()
