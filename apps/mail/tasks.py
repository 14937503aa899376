"""Celery tasks: ingest one stored mail; sweep up mail whose task was lost."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from apps.mail.models import IncomingMail

# A mail still pending this long after it arrived lost its task (broker down, worker killed).
SWEEP_AFTER = dt.timedelta(minutes=2)


@shared_task(
    name="mail.ingest",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=20,
    acks_late=True,
)
def mail_ingest(mail_id: int) -> str:
    """Ingest one stored mail; a mail already ingested (double delivery) is left alone."""
    from apps.mail.services import mail_ingest_pending

    mail = mail_ingest_pending(mail_id)
    return "not pending" if mail is None else mail.status


@shared_task(name="mail.sweep")
def mail_sweep() -> int:
    """Queue again every mail left pending for a while; returns how many."""
    from apps.mail.intake import mail_enqueue

    cutoff = timezone.now() - SWEEP_AFTER
    ids = list(
        IncomingMail.objects.filter(status=IncomingMail.PENDING, received__lt=cutoff)
        .order_by("received", "pk")
        .values_list("pk", flat=True)[:1000]
    )
    for mail_id in ids:
        mail_enqueue(mail_id)
    return len(ids)


@shared_task(name="mail.prune")
def mail_prune() -> int:
    """Delete stored raw mail older than MAIL_RETENTION_DAYS (0 keeps it forever)."""
    from django.conf import settings

    if not settings.MAIL_RETENTION_DAYS:
        return 0
    cutoff = timezone.now() - dt.timedelta(days=settings.MAIL_RETENTION_DAYS)
    old = IncomingMail.objects.filter(received__lt=cutoff).exclude(status=IncomingMail.PENDING)
    deleted = 0
    while True:
        ids = list(old.order_by("pk").values_list("pk", flat=True)[:1000])
        if not ids:
            return deleted
        IncomingMail.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


@shared_task(name="mail.follow_inboxes", ignore_result=True)
def mail_follow_inboxes() -> int:
    """Ingest what the public-inbox mirrors in PUBLIC_INBOX_PATHS received; returns how many
    messages were read."""
    from django.conf import settings

    from apps.mail.publicinbox import inbox_ingest

    total = 0
    for path in settings.PUBLIC_INBOX_PATHS:
        total += sum(inbox_ingest(path).values())
    return total
