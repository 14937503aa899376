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
    from apps.mail.services import mail_ingest as ingest

    mail = IncomingMail.objects.filter(pk=mail_id).first()
    if mail is None:
        return "gone"
    return ingest(mail).status


@shared_task(name="mail.sweep")
def mail_sweep() -> int:
    """Queue again every mail left pending for a while; returns how many."""
    from apps.mail.services import mail_enqueue

    cutoff = timezone.now() - SWEEP_AFTER
    ids = list(
        IncomingMail.objects.filter(status=IncomingMail.PENDING, received__lt=cutoff)
        .order_by("received", "pk")
        .values_list("pk", flat=True)[:1000]
    )
    for mail_id in ids:
        mail_enqueue(mail_id)
    return len(ids)
