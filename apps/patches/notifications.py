"""Patch-change notifications: who is due a digest mail, and sending the digests.

A state change records (or updates, or cancels) a PatchChangeNotification in
the transaction of the change; a periodic job mails each submitter one digest
of their patches whose state has settled for NOTIFICATION_DELAY_MINUTES.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import EmailOptout
from apps.patches.models import Patch, PatchChangeNotification
from apps.projects.models import Person, State

log = logging.getLogger(__name__)


# --- recording ------------------------------------------------------------------


def notification_record(*, patch: Patch, previous_state: State, current_state: State) -> None:
    """Note that the patch's submitter is due a notification; a change back cancels it."""
    if not patch.project.send_notifications:
        return
    # Locks the row, so a digest being sent for it finishes first (and we then start afresh).
    pending = PatchChangeNotification.objects.select_for_update().filter(patch=patch).first()
    if pending is None:
        if _opted_out(patch.submitter.email):
            return
        PatchChangeNotification.objects.create(patch=patch, orig_state=previous_state)
    elif pending.orig_state_id == current_state.pk:
        pending.delete()
    else:
        pending.last_modified = timezone.now()
        pending.save(update_fields=["last_modified"])


def _opted_out(email: str) -> bool:
    return EmailOptout.objects.filter(email__iexact=email).exists()


# --- sending --------------------------------------------------------------------


@dataclass
class DigestReport:
    """What one run of notifications_send did."""

    sent: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def notifications_send(*, now: datetime | None = None) -> DigestReport:
    """Mail every submitter one digest of their settled patch changes; returns what happened."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.NOTIFICATION_DELAY_MINUTES)
    report = DigestReport()
    due = (
        PatchChangeNotification.objects.filter(last_modified__lte=cutoff)
        .values_list("patch__submitter_id", flat=True)
        .distinct()
    )
    submitter_ids = sorted(set(due))
    if not submitter_ids:
        return report
    people = Person.objects.in_bulk(submitter_ids)
    optouts = _optouts([person.email for person in people.values()])
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        log.exception("notification digests not sent: cannot reach the mail server; will retry")
        report.failed = [person.email for person in people.values()]
        return report
    try:
        for person_id in submitter_ids:
            _send_one(people[person_id], cutoff, optouts, connection, report)
    finally:
        connection.close()
    log.info(
        "notification digests: %d sent, %d opted out, %d invalid, %d failed",
        len(report.sent),
        len(report.opted_out),
        len(report.invalid),
        len(report.failed),
    )
    return report


def _optouts(emails: list[str]) -> set[str]:
    """The opted-out addresses among these, lower-cased (addresses compare case-insensitively)."""
    lowered = {email.lower() for email in emails}
    return set(
        EmailOptout.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=lowered)
        .values_list("lowered", flat=True)
    )


def _send_one(person: Person, cutoff, optouts: set[str], connection, report: DigestReport) -> None:
    with transaction.atomic():
        # skip_locked: a concurrent run (cron and beat both configured) takes other people.
        claimed = list(
            PatchChangeNotification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(patch__submitter=person, last_modified__lte=cutoff)
            .select_related("patch__project", "patch__state", "orig_state")
            .order_by("patch__project__linkname", "patch__date", "patch_id")
        )
        if not claimed:
            return
        done = PatchChangeNotification.objects.filter(pk__in=[n.pk for n in claimed])
        if person.email.lower() in optouts:
            report.opted_out.append(person.email)
            done.delete()
            return
        try:
            validate_email(person.email)
            message = digest_build(person=person, notifications=claimed, connection=connection)
            message.message()  # renders headers: a bad name fails here, not halfway through SMTP
        except (ValidationError, BadHeaderError, ValueError) as exc:
            log.warning("notification digest skipped, invalid recipient %r: %s", person.email, exc)
            report.invalid.append(person.email)
            done.delete()
            return
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            log.warning("notification digest refused for %r: %s", person.email, exc)
            report.invalid.append(person.email)
            done.delete()
            return
        except Exception:
            # The server or the network failed: keep the notifications for the next run.
            log.exception("notification digest to %r failed; will retry", person.email)
            report.failed.append(person.email)
            return
        done.delete()
        report.sent.append(person.email)


def digest_build(
    *, person: Person, notifications: list[PatchChangeNotification], connection=None
) -> EmailMessage:
    """The digest mail telling a submitter how their patches' states changed."""
    count = len(notifications)
    subject = f"Patch update notification: {count} patch{'es' if count != 1 else ''} updated"
    lines = [
        f"Hello {person.name or person.email},",
        "",
        "The following patches (submitted by you) have been updated in Patchwork:",
        "",
    ]
    for notification in notifications:
        patch = notification.patch
        lines += [
            f" * {patch.project.linkname}: {patch.name}",
            f"     - {patch_url(patch)}",
            f"    was: {notification.orig_state.name}",
            f"    now: {patch.state.name}",
            "",
        ]
    optout = optout_url(person.email)
    lines += [
        "This email is a notification only - you do not need to respond.",
        "",
        "Happy patchworking.",
        "",
        "-- ",
        f"This is an automated mail sent by the Patchwork system at {settings.SITE_URL}.",
        "To stop receiving these notifications, opt out at:",
        f"  {optout}",
        "",
    ]
    return EmailMessage(
        subject=subject,
        body="\n".join(lines),
        from_email=settings.NOTIFICATION_FROM_EMAIL,
        to=[formataddr((person.name, person.email))],
        headers={
            "Precedence": "bulk",
            "Auto-Submitted": "auto-generated",
            # Patchwork instances that see this mail on a list must not parse it.
            "X-Patchwork-Hint": "ignore",
            "List-Unsubscribe": f"<{optout}>",
        },
        connection=connection,
    )


def patch_url(patch: Patch) -> str:
    """Absolute URL of the patch page."""
    path = reverse(
        "patch-detail", kwargs={"linkname": patch.project.linkname, "msgid": patch.url_msgid}
    )
    return settings.SITE_URL + path


def optout_url(email: str) -> str:
    """Absolute URL of the page where this address opts out of notification mail."""
    return f"{settings.SITE_URL}{reverse('mail-optout')}?{urlencode({'email': email})}"
