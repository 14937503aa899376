"""Ingestion reads a project's webhooks with its lock: never stale, however warm the worker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import Event
from apps.mail.context import worker_context
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest_pending
from apps.webhooks.models import Delivery, Webhook
from apps.webhooks.services import webhook_update
from tests.factories import make_project, make_user
from tests.mails import git_mails, read

pytestmark = pytest.mark.django_db


def ingest_as_worker(raw: bytes) -> IncomingMail:
    mail = mail_store(raw)
    mail = mail_ingest_pending(mail.pk)
    assert mail.status != IncomingMail.FAILED, mail.reason
    return mail


def hook(owner, *, projects=(), categories=(), **fields) -> Webhook:
    webhook = Webhook.objects.create(
        owner=owner, url="http://127.0.0.1:9/hook", categories=list(categories), **fields
    )
    webhook.projects.set(projects)
    return webhook


def delivered(webhook: Webhook) -> list[str]:
    """The categories of the webhook's deliveries, in the order of their events."""
    return list(
        Delivery.objects.filter(webhook=webhook)
        .order_by("event_id")
        .values_list("category", flat=True)
    )


def test_a_webhook_created_while_the_worker_context_is_warm_gets_the_next_mails_events(
    frob, stranger
):
    cover, first, second = git_mails("v1")[:3]
    ingest_as_worker(cover.read_bytes())
    context = worker_context()
    assert "projects" in context.__dict__  # warm: the next mail reuses it
    webhook = hook(stranger)
    ingest_as_worker(first.read_bytes())
    assert worker_context() is context
    events = list(Event.objects.filter(patch__isnull=False).values_list("pk", flat=True))
    assert events  # the patch's own events; the cover letter's came before the webhook
    assert list(
        Delivery.objects.filter(webhook=webhook)
        .order_by("event_id")
        .values_list("event_id", flat=True)
    ) == sorted(events)
    assert not Delivery.objects.filter(event__category=Event.COVER_CREATED).exists()

    # Turned off while the context is still warm: nothing more.
    webhook_update(webhook=webhook, active=False)
    before = Delivery.objects.count()
    ingest_as_worker(second.read_bytes())
    assert worker_context() is context
    assert Delivery.objects.count() == before


def test_only_the_webhooks_that_want_the_projects_events_get_them(frob, stranger, maintainer):
    other = make_project("other", listid="other.lists.example.org")
    everything = hook(stranger)
    frob_patches = hook(stranger, projects=[frob], categories=[Event.PATCH_CREATED])
    frob_covers = hook(maintainer, projects=[other, frob], categories=[Event.COVER_CREATED])
    other_only = hook(stranger, projects=[other])
    off = hook(stranger, active=False)
    owner_gone = hook(make_user("gone", is_active=False))
    for path in git_mails("v1")[:2]:
        ingest_as_worker(path.read_bytes())
    assert delivered(frob_patches) == [Event.PATCH_CREATED]
    assert delivered(frob_covers) == [Event.COVER_CREATED]
    assert delivered(everything) == list(
        Event.objects.order_by("pk").values_list("category", flat=True)
    )
    assert {Event.COVER_CREATED, Event.PATCH_CREATED} <= set(delivered(everything))
    assert delivered(other_only) == delivered(off) == delivered(owner_gone) == []


def test_a_mail_reads_the_webhooks_once_whatever_its_events(frob, stranger):
    hook(stranger)
    ingest_as_worker(git_mails("v1")[0].read_bytes())  # warm the context
    with CaptureQueriesContext(connection) as queries:
        ingest_as_worker(git_mails("v1")[1].read_bytes())
        ingest_as_worker(read("replies/reviewed.eml"))
    webhook_reads = [q["sql"] for q in queries if 'FROM "webhooks_webhook"' in q["sql"]]
    # One read per mail, when its events are written together (however many it records).
    assert len(webhook_reads) == 2, webhook_reads
    assert Delivery.objects.filter(category=Event.PATCH_COMMENT_CREATED).count() == 1
