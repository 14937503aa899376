"""A worker killed in the middle of a delivery: nothing is lost (needs Redis and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.events.models import Event
from apps.events.services import event_record
from apps.webhooks.delivery import deliveries_requeue
from apps.webhooks.models import Delivery
from apps.webhooks.services import webhook_create
from tests.factories import make_patch
from tests.webhooks.receiver import Receiver
from tests.webhooks.worker import SERVICES, SKIP_REASON, Worker, statuses, wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SERVICES, reason=SKIP_REASON),
    pytest.mark.usefixtures("through_the_broker"),
]


@pytest.fixture
def worker():
    started = [Worker(WEBHOOK_RETRY_DELAYS="1,1,2").start()]
    yield started
    for w in started:
        w.stop()


def test_killing_the_worker_mid_delivery_loses_nothing(worker, maintainer, project):
    receiver = Receiver().start()
    try:
        webhook, _ = webhook_create(owner=maintainer, url=receiver.url, active=False)
        webhook.active = True
        webhook.save(update_fields=["active"])
        receiver.hold.clear()  # the receiver takes its time: the worker waits for it
        event_record(category=Event.PATCH_CREATED, project=project, patch=make_patch(project))
        assert receiver.held.wait(60), "the worker never sent the delivery"
        first = Delivery.objects.get()
        assert first.status == Delivery.RUNNING

        worker[0].kill()  # mid-request
        receiver.hold.set()
        # Changes keep happening while no worker runs; their tasks wait in Redis.
        event_record(category=Event.PATCH_CREATED, project=project, patch=make_patch(project))
        worker.append(Worker(WEBHOOK_RETRY_DELAYS="1,1,2").start())

        # The periodic sweep, once the dead worker's claim has expired, queues it again.
        lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 61)
        Delivery.objects.filter(pk=first.pk).update(claimed_at=timezone.now() - lease)
        assert deliveries_requeue() >= 1
        wait_until(lambda: statuses() == ["succeeded"] * 2, what="both deliveries succeeded")
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert set(ids) == set(Delivery.objects.values_list("message_id", flat=True))
        assert ids.count(first.message_id) == 2  # at least once: sent again after the crash
    finally:
        receiver.stop()
