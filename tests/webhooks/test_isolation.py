"""Isolation on the real webhooks worker (the `webhooks` queue, a thread pool, Redis):
a receiver that hangs does not delay another; no host gets more than its cap at once;
Retry-After holds on this worker too (retries: test_worker.py, addresses:
test_worker_address_rules.py)."""

from __future__ import annotations

import time

import pytest

from apps.events.models import Event
from apps.events.services import event_record
from apps.webhooks.models import Delivery, DeliveryAttempt
from tests.factories import make_patch
from tests.webhooks.receiver import Receiver
from tests.webhooks.worker import SERVICES, SKIP_REASON, Worker, subscribe, wait_until

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SERVICES, reason=SKIP_REASON),
    pytest.mark.usefixtures("through_the_broker"),
]

CAP = 3
THREADS = 20  # tests/webhooks/worker.py
TIMEOUT = 40
FAST_DEADLINE = 20


@pytest.fixture(scope="module")
def worker(django_db_setup):
    if not SERVICES:
        pytest.skip(SKIP_REASON)
    started = Worker(
        WEBHOOK_RETRY_DELAYS="1,1,2",
        WEBHOOK_HOST_CONCURRENCY=str(CAP),
        # Longer than the fast receiver's deadline below: a held thread is freed by
        # the cap, not by the timeout.
        WEBHOOK_TIMEOUT_SECONDS=str(TIMEOUT),
    ).start()
    yield started
    started.stop()


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start(host: str = "127.0.0.1") -> Receiver:
        started.append(Receiver(host=host).start())
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


def test_a_hanging_receiver_does_not_delay_a_fast_one(worker, receivers, maintainer, project):
    slow = receivers("127.0.0.2")
    fast = receivers("127.0.0.1")
    slow.hold.clear()  # answers only when the test lets it (or after 60 s)
    subscribe(maintainer, slow.url)
    subscribe(maintainer, fast.url)
    patch = make_patch(project)
    events = THREADS + 10  # more than the worker's threads: without the cap they'd all hang
    try:
        for _ in range(events):
            event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
        started = time.monotonic()
        fast.wait_for(events, timeout=FAST_DEADLINE)
        took = time.monotonic() - started
        assert len(slow.requests) == CAP  # the slow one got its cap, the rest wait in line
        assert not slow.hold.is_set() and took < FAST_DEADLINE < TIMEOUT
    finally:
        slow.hold.set()
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.SUCCEEDED).count() == 2 * events,
        timeout=90,
        what="every delivery, the slow receiver's too, succeeded",
    )
    assert slow.most_in_flight <= CAP


def test_no_host_gets_more_than_its_cap_at_once(worker, receivers, maintainer, project):
    # Two receivers on one host: the cap counts the host, not the URL or the port.
    first, second = receivers(), receivers()
    first.hold.clear()
    second.hold.clear()
    subscribe(maintainer, first.url)
    subscribe(maintainer, second.url)
    patch = make_patch(project)
    for _ in range(6):
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    deadline = time.monotonic() + 30
    while len(first.requests) + len(second.requests) < CAP:
        assert time.monotonic() < deadline, "the worker sent fewer than the cap"
        time.sleep(0.05)
    time.sleep(1.5)  # room for a fourth request, if the cap let one through
    assert len(first.requests) + len(second.requests) == CAP
    assert Delivery.objects.filter(status=Delivery.RUNNING).count() == CAP
    first.hold.set()
    second.hold.set()
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.SUCCEEDED).count() == 12,
        what="all 12 deliveries succeeded once released",
    )
    assert len(first.requests) == len(second.requests) == 6
    assert max(first.most_in_flight, second.most_in_flight) <= CAP


def test_a_burst_to_one_host_goes_cap_at_a_time_and_no_waiting_delivery_is_a_task(
    worker, receivers, maintainer, project
):
    """The senders holding the host's slots send its line themselves: the worker runs one
    task an event, not one more for each delivery that waited."""
    receiver = receivers()
    receiver.hold.clear()
    subscribe(maintainer, receiver.url)
    patch = make_patch(project)
    before = worker.tasks_received("webhooks.deliver")
    events = THREADS + 10
    try:
        for _ in range(events):
            event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
        receiver.wait_for(CAP)
        wait_until(
            lambda: worker.tasks_received("webhooks.deliver") - before == events,
            what="every event's task reached the worker",
        )
    finally:
        receiver.hold.set()
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.SUCCEEDED).count() == events,
        what="the whole burst delivered",
    )
    assert len(receiver.requests) == events
    assert receiver.most_in_flight == CAP
    assert worker.tasks_received("webhooks.deliver") - before == events


def test_retry_after_is_honoured_on_the_webhooks_worker(worker, receivers, maintainer, project):
    receiver = receivers()
    receiver.respond(503, headers={"Retry-After": "2"})
    subscribe(maintainer, receiver.url)
    event_record(category=Event.PATCH_CREATED, project=project, patch=make_patch(project))
    wait_until(lambda: Delivery.objects.filter(status=Delivery.SUCCEEDED).exists(), timeout=30)
    attempts = list(DeliveryAttempt.objects.order_by("number"))
    assert [a.response_status for a in attempts] == [503, 200]
    # The retry schedule says 1 s; the receiver asked for 2.
    assert (attempts[1].started - attempts[0].started).total_seconds() >= 1.9
