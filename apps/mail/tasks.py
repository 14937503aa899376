"""Celery tasks: ingest one stored mail; sweep up mail whose task was lost. Code that
stores mail queues its ingestion here (mail_enqueue_on_commit): services never import
this module, which imports them."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from apps.mail.models import IncomingMail
from apps.mail.publicinbox import inbox_ingest
from apps.mail.services import mail_ingest_pending

log = logging.getLogger(__name__)

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
    mail = mail_ingest_pending(mail_id)
    return "not pending" if mail is None else mail.status


@shared_task(name="mail.sweep")
def mail_sweep() -> int:
    """Queue again every mail left pending for a while; returns how many."""
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
    total = 0
    for path in settings.PUBLIC_INBOX_PATHS:
        total += sum(inbox_ingest(path).values())
    return total


def mail_enqueue(mail_id: int) -> bool:
    """Hand a stored mail to a worker; a broker that is down only delays it (the sweep retries)."""
    try:
        mail_ingest.delay(mail_id)
    except Exception:
        log.warning("could not queue mail %s; the sweep will", mail_id, exc_info=True)
        return False
    return True


def mail_enqueue_on_commit(mail: IncomingMail) -> None:
    """Queue a just stored mail's ingestion once its row is committed (at once outside a
    transaction); a mail refused at intake (not pending) is not queued."""
    if mail.status == IncomingMail.PENDING:
        mail_id = mail.pk
        transaction.on_commit(lambda: mail_enqueue(mail_id))
