"""Periodic mail jobs: the sweep of lost tasks, retention of raw mail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.tasks import mail_enqueue, mail_prune, mail_sweep
from tests.mails import deliver, git_mails

pytestmark = pytest.mark.django_db


def test_sweep_queues_only_mail_pending_for_a_while(frob):
    old = mail_store(git_mails("v1")[1].read_bytes())
    fresh = mail_store(git_mails("v1")[2].read_bytes())
    IncomingMail.objects.filter(pk=old.pk).update(received=timezone.now() - dt.timedelta(hours=1))
    assert mail_sweep() == 1  # eager tasks: ingested right here
    assert IncomingMail.objects.get(pk=old.pk).status == IncomingMail.PARSED
    assert IncomingMail.objects.get(pk=fresh.pk).status == IncomingMail.PENDING


def test_enqueue_survives_a_broker_that_is_down(frob, monkeypatch):
    from apps.mail import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.mail_ingest, "delay", down)
    mail = mail_store(git_mails("v1")[1].read_bytes())
    assert mail_enqueue(mail.pk) is False
    assert IncomingMail.objects.get().status == IncomingMail.PENDING


def test_prune_honours_mail_retention_days(frob, settings):
    done = deliver(git_mails("v1")[1])
    pending = mail_store(git_mails("v1")[2].read_bytes())
    IncomingMail.objects.update(received=timezone.now() - dt.timedelta(days=40))
    settings.MAIL_RETENTION_DAYS = 0
    assert mail_prune() == 0
    settings.MAIL_RETENTION_DAYS = 30
    assert mail_prune() == 1
    assert list(IncomingMail.objects.values_list("pk", flat=True)) == [pending.pk]
    assert not IncomingMail.objects.filter(pk=done.pk).exists()
