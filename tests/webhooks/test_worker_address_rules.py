"""The address rules on the real webhooks worker: the name is resolved there, and a
private address refused there, whatever was allowed when the webhook was saved."""

from __future__ import annotations

import pytest

from apps.events.models import Event
from apps.events.services import event_record
from apps.webhooks.models import Delivery
from tests.factories import make_patch
from tests.webhooks.worker import SERVICES, SKIP_REASON, Worker, subscribe, wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SERVICES, reason=SKIP_REASON),
    pytest.mark.usefixtures("through_the_broker"),
]


def test_the_webhooks_worker_refuses_names_resolving_to_private_addresses(
    receiver, maintainer, project, resolver
):
    # Saved while private targets are allowed; the worker runs with production's rule.
    resolver.names["localhost"] = ["127.0.0.1"]
    subscribe(maintainer, f"http://localhost:{receiver.port}/hook")
    strict = Worker(WEBHOOK_ALLOW_PRIVATE_TARGETS="0").start()
    try:
        event_record(category=Event.PATCH_CREATED, project=project, patch=make_patch(project))
        wait_until(lambda: Delivery.objects.filter(status=Delivery.FAILED).exists(), timeout=30)
    finally:
        strict.stop()
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1  # permanent: not retried
    assert "resolves to 127.0.0.1" in delivery.last_error
    assert receiver.connections == 0
