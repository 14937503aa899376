"""The per-host cap's bookkeeping (hostcap.py), in Redis and in-process, and how a
delivery waits in its host's line instead of holding a worker (in-process sending).
How the senders holding a host's slots send its line: test_hand_over.py."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from apps.webhooks import hostcap
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import DeliveryAttempt, Webhook
from apps.webhooks.services import webhook_ping


def test_a_host_gets_at_most_its_cap_and_the_rest_wait_in_line(backend, settings):
    settings.WEBHOOK_HOST_CONCURRENCY = 2
    first = hostcap.slot_take("ci.example.com", 1)
    second = hostcap.slot_take("ci.example.com", 2)
    assert first and second
    assert hostcap.slot_take("ci.example.com", 3) is None
    assert hostcap.slot_take("ci.example.com", 4) is None
    # Another host has slots of its own.
    assert hostcap.slot_take("other.example.com", 5)

    # A slot whose delivery ended takes the first in line and is kept for it, so a
    # newcomer still waits.
    assert hostcap.slot_pass(first) == 3
    assert hostcap.slot_take("ci.example.com", 6) is None
    assert hostcap.slot_pass(second) == 4
    assert hostcap.slot_pass(first) == 6
    # Nobody waits: the slot is given back, and a newcomer gets it.
    assert hostcap.slot_pass(first) is None
    assert hostcap.slot_take("ci.example.com", 7)
    # Passing a slot given back takes nobody and frees nothing more.
    assert hostcap.slot_take("ci.example.com", 8) is None
    assert hostcap.slot_pass(first) is None
    assert hostcap.slot_take("ci.example.com", 9) is None


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
def test_a_delivery_to_a_busy_host_waits_unclaimed_in_its_line(
    backend, settings, stranger, receiver, queued
):
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    webhook = Webhook.objects.create(owner=stranger, url=receiver.url)
    busy = hostcap.slot_take("127.0.0.1", 999)  # another delivery to the same host
    delivery = webhook_ping(webhook=webhook)

    assert delivery_attempt(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("pending", 0, None)
    assert receiver.requests == [] and not DeliveryAttempt.objects.exists()
    assert queued == []  # nor queued again: the sender holding the slot will take it
    assert hostcap.slot_pass(busy) == delivery.pk


def test_the_cap_is_a_setting_with_a_sane_default():
    assert settings.WEBHOOK_HOST_CONCURRENCY >= 1


def test_slots_passed_together_go_on_as_one_at_a_time_would(backend, settings):
    """A fan-out passes the slots of the POSTs that ended together in one round trip."""
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    first, other = hostcap.slot_take("ci.example.com", 1), hostcap.slot_take("b.example.com", 2)
    assert first and other
    assert hostcap.slot_take("ci.example.com", 3) is None  # waits in line
    assert hostcap.slots_pass([first, other]) == [3, None]
    assert hostcap.slot_take("b.example.com", 4)  # nobody waited: given back
    assert hostcap.slot_take("ci.example.com", 5) is None  # kept for 3
    assert hostcap.slots_pass([first]) == [5]


def test_a_slot_given_back_takes_nobody_from_its_line(backend, settings):
    """A sender cut short by an error gives its slots back; the line waits for the next."""
    settings.WEBHOOK_HOST_CONCURRENCY = 1
    first = hostcap.slot_take("ci.example.com", 1)
    assert first and hostcap.slot_take("ci.example.com", 2) is None
    hostcap.slots_give_back([first])
    second = hostcap.slot_take("ci.example.com", 3)  # the free slot, not 2's turn
    assert second and hostcap.slot_pass(second) == 2
