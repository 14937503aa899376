"""The outbox: deliveries are written with their event, for the webhooks that want it."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.events.models import Event
from apps.events.services import event_record
from apps.webhooks import tasks
from apps.webhooks.models import Delivery, Webhook
from tests.factories import make_patch, make_project, make_user
from tests.webhooks.worker import task_ids

pytestmark = pytest.mark.django_db


def hook(owner, *, projects=(), categories=(), **fields) -> Webhook:
    webhook = Webhook.objects.create(
        owner=owner, url="http://127.0.0.1:9/hook", categories=list(categories), **fields
    )
    webhook.projects.set(projects)
    return webhook


@pytest.fixture
def queued(monkeypatch):
    """Record the delivery tasks queued instead of running them."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: ids.extend(task_ids(args)))
    return ids


def record(project, category=Event.PATCH_CREATED, **refs) -> Event:
    return event_record(category=category, project=project, **refs)


def test_deliveries_commit_with_the_event_and_are_queued_after_commit(
    project, stranger, queued, django_capture_on_commit_callbacks
):
    webhook = hook(stranger)
    with django_capture_on_commit_callbacks(execute=True):
        event = record(project, patch=make_patch(project))
        assert queued == []  # nothing is sent before the change commits
    (delivery,) = Delivery.objects.all()
    assert (delivery.webhook, delivery.event, delivery.category) == (
        webhook,
        event,
        Event.PATCH_CREATED,
    )
    assert delivery.status == Delivery.PENDING and delivery.message_id.startswith("msg_")
    assert queued == [delivery.pk]


def test_an_events_fan_out_is_queued_as_one_task(
    project, monkeypatch, django_capture_on_commit_callbacks
):
    """Publishing a message costs a broker round trip: an event's subscribers' deliveries
    go in one task, not one each (and more than BATCH of them in several)."""
    sent: list[list[int]] = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, **kw: sent.append(task_ids(args))
    )
    monkeypatch.setattr(tasks, "BATCH", 2)
    for n in range(3):
        hook(make_user(f"ci{n}"))
    with django_capture_on_commit_callbacks(execute=True):
        record(project, patch=make_patch(project))
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(ids) == 3 and sorted(pk for task in sent for pk in task) == ids
    assert [len(task) for task in sent] == [2, 1]


def test_a_rolled_back_change_leaves_neither_event_nor_delivery(project, stranger, queued):
    hook(stranger)
    patch = make_patch(project)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(project, patch=patch)
        raise RuntimeError("the mail failed to parse halfway")
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert queued == []


def test_project_and_category_filters(project, stranger, queued):
    other = make_project("other")
    everything = hook(stranger)
    only_demo = hook(stranger, projects=[project])
    only_other = hook(stranger, projects=[other])
    both = hook(stranger, projects=[project, other])
    checks_only = hook(stranger, categories=[Event.CHECK_CREATED])
    completed = hook(stranger, categories=[Event.PATCH_COMPLETED, Event.SERIES_COMPLETED])
    hook(stranger, active=False)
    hook(make_user("gone", is_active=False))

    patch = make_patch(project)
    record(project, Event.PATCH_COMPLETED, patch=patch)
    record(project, Event.PATCH_STATE_CHANGED, patch=patch)
    record(other, Event.CHECK_CREATED, patch=make_patch(other))

    got = {(d.webhook_id, d.category) for d in Delivery.objects.all()}
    assert got == {
        (everything.pk, Event.PATCH_COMPLETED),
        (everything.pk, Event.PATCH_STATE_CHANGED),
        (everything.pk, Event.CHECK_CREATED),
        (only_demo.pk, Event.PATCH_COMPLETED),
        (only_demo.pk, Event.PATCH_STATE_CHANGED),
        (only_other.pk, Event.CHECK_CREATED),
        (both.pk, Event.PATCH_COMPLETED),
        (both.pk, Event.PATCH_STATE_CHANGED),
        (both.pk, Event.CHECK_CREATED),
        (checks_only.pk, Event.CHECK_CREATED),
        (completed.pk, Event.PATCH_COMPLETED),
    }


def test_fan_out_costs_the_same_queries_for_one_or_a_hundred_webhooks(
    project, stranger, queued, django_assert_num_queries, django_assert_max_num_queries
):
    patch = make_patch(project)
    hook(stranger)
    with django_assert_num_queries(3):  # event, matching webhooks, bulk insert
        record(project, patch=patch)
    for _ in range(99):
        hook(stranger, projects=[project])
    # SQLite splits a bulk insert into batches of 999 parameters: one more query there.
    with django_assert_max_num_queries(4):
        record(project, patch=patch)
    assert Delivery.objects.count() == 101


def test_no_webhook_costs_one_query(project, queued, django_assert_num_queries):
    patch = make_patch(project)
    with django_assert_num_queries(2):
        record(project, patch=patch)
    assert not Delivery.objects.exists()


def test_a_broker_failure_never_fails_the_change(
    project, stranger, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    hook(stranger)

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        event = record(project, patch=make_patch(project))
    assert Event.objects.filter(pk=event.pk).exists()
    assert Delivery.objects.get().status == Delivery.PENDING  # the sweep will send it
    assert "could not queue webhook deliveries" in caplog.text
