"""The per-host cap's bookkeeping (hostcap.py), in Redis and in-process, and how a
delivery waits in its host's line instead of holding a worker (in-process sending)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from apps.webhooks import hostcap, tasks
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from apps.webhooks.services import deliveries_enqueue, webhook_ping
from tests.webhooks.worker import task_ids


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


@pytest.fixture(params=["redis", "in-process"])
def backend(request, settings):
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("needs a real Redis (set REDIS_URL)")
    if request.param == "in-process":
        settings.REDIS_URL = ""
    hostcap.hosts_forget()
    yield request.param
    hostcap.hosts_forget()


def test_a_host_gets_at_most_its_cap_and_the_rest_wait_in_line(backend, settings):
    settings.WEBHOOK_HOST_CONCURRENCY = 2
    first = hostcap.slot_take("ci.example.com", 1)
    second = hostcap.slot_take("ci.example.com", 2)
    assert first and second
    assert hostcap.slot_take("ci.example.com", 3) is None
    assert hostcap.slot_take("ci.example.com", 4) is None
    # Another host has slots of its own.
    assert hostcap.slot_take("other.example.com", 5)

    # A slot given back goes to the first in line, even if a newcomer asks first.
    assert hostcap.slot_give_back(first) == 3
    assert hostcap.slot_take("ci.example.com", 6) is None
    third = hostcap.slot_take("ci.example.com", 3)
    assert third
    # A slot is handed over once: a duplicate task for the same delivery waits.
    assert hostcap.slot_take("ci.example.com", 3) is None

    assert hostcap.slot_give_back(second) == 4
    assert hostcap.slot_give_back(second) is None  # giving back twice frees nothing more


def test_the_slot_of_a_dead_worker_frees_itself(backend, settings, monkeypatch):
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    monkeypatch.setattr(hostcap, "lease_seconds", lambda: 0.3)
    assert hostcap.slot_take("ci.example.com", 1)  # its worker dies: never given back
    assert hostcap.slot_take("ci.example.com", 2) is None
    time.sleep(0.5)
    assert hostcap.slot_take("ci.example.com", 3)


def test_hosts_are_counted_by_name_whatever_the_port_or_case():
    assert hostcap.host_of("https://CI.Example.com.:8443/hook?x=1") == "ci.example.com"
    assert hostcap.host_of("http://[::1]:8000/") == "::1"
    assert hostcap.host_of("http://[bad") == ""


@pytest.mark.django_db
def test_a_delivery_to_a_busy_host_waits_unclaimed_then_goes_when_a_slot_frees(
    backend, settings, stranger, receiver, no_busy_hosts
):
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    webhook = Webhook.objects.create(owner=stranger, url=receiver.url)
    busy = hostcap.slot_take("127.0.0.1", 999)  # another delivery to the same host
    delivery = webhook_ping(webhook=webhook)

    assert delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("pending", 0, None)
    assert receiver.requests == [] and not DeliveryAttempt.objects.exists()

    # The busy delivery finishes: its slot goes to the waiting one, which is queued again.
    handed = hostcap.slot_give_back(busy)
    assert handed == delivery.pk
    deliveries_enqueue([handed])  # eager here: sent at once
    assert len(receiver.wait_for(1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.SUCCEEDED
    # ...and its own slot was given back: the host is free again.
    assert hostcap.slot_take("127.0.0.1", 1000)


def test_the_cap_is_a_setting_with_a_sane_default():
    assert settings.WEBHOOK_HOST_CONCURRENCY >= 1


@pytest.mark.django_db
def test_a_slot_handed_to_a_delivery_already_sent_goes_to_the_next_in_line(
    backend, settings, stranger, receiver, queued
):
    """The sweep may queue a waiting delivery again: it waits in line twice, and the
    second time its turn comes it has been sent already."""
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    webhook = Webhook.objects.create(owner=stranger, url=receiver.url)
    busy = hostcap.slot_take("127.0.0.1", 999)
    sent, waiting = webhook_ping(webhook=webhook), webhook_ping(webhook=webhook)
    assert hostcap.slot_take("127.0.0.1", sent.pk) is None  # in line twice
    assert hostcap.slot_take("127.0.0.1", waiting.pk) is None
    Delivery.objects.filter(pk=sent.pk).update(status=Delivery.SUCCEEDED)

    assert hostcap.slot_give_back(busy) == sent.pk  # its turn, but it's done
    assert delivery_attempt(delivery_id=sent.pk) is None
    assert queued == [(waiting.pk, None)]  # the slot went on to the next
    assert delivery_attempt(delivery_id=waiting.pk).status == Delivery.SUCCEEDED


def test_slots_given_back_together_go_on_as_one_at_a_time_would(backend, settings):
    """A fan-out gives back the slots of the POSTs that ended together in one round trip."""
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    first, other = hostcap.slot_take("ci.example.com", 1), hostcap.slot_take("b.example.com", 2)
    assert first and other
    assert hostcap.slot_take("ci.example.com", 3) is None  # waits in line
    assert hostcap.slots_give_back([first, other]) == [3, None]
    assert hostcap.slot_take("b.example.com", 4)  # free again
    assert hostcap.slot_take("ci.example.com", 5) is None  # the freed one went to 3
    assert hostcap.slot_take("ci.example.com", 3)
