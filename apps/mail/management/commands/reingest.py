"""manage.py reingest: ingest stored mail again, e.g. failed mail after a fix."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.mail.batch import mails_reingest
from apps.mail.context import IngestContext
from apps.mail.models import IncomingMail
from apps.mail.services import mail_requeue
from apps.mail.tasks import mail_enqueue


class Command(BaseCommand):
    help = (
        "Ingest stored mail again: every failed mail (--all-failed), mail left pending "
        "(--pending), or the given IncomingMail ids. Runs here unless --queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="IncomingMail ids")
        parser.add_argument("--all-failed", action="store_true", help="every failed mail")
        parser.add_argument("--pending", action="store_true", help="every mail still pending")
        parser.add_argument("--queue", action="store_true", help="hand them to the workers instead")

    def handle(self, *args, ids, all_failed, pending, queue, **options):
        if not (ids or all_failed or pending):
            raise CommandError("give IncomingMail ids, --all-failed or --pending")
        selected = IncomingMail.objects.none()
        if ids:
            missing = set(ids) - set(
                IncomingMail.objects.filter(pk__in=ids).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(
                    f"no incoming mail with id {', '.join(map(str, sorted(missing)))}"
                )
            selected |= IncomingMail.objects.filter(pk__in=ids)
        if all_failed:
            selected |= IncomingMail.objects.filter(status=IncomingMail.FAILED)
        if pending:
            selected |= IncomingMail.objects.filter(status=IncomingMail.PENDING)
        mail_ids = list(selected.order_by("received", "pk").values_list("pk", flat=True))
        mail_requeue(mail_ids=mail_ids)
        if queue:
            queued = sum(mail_enqueue(pk) for pk in mail_ids)
            self.stdout.write(f"{len(mail_ids)} mails: {queued} queued")
            return
        # Batched (apps/mail/batch.py): the same outcome as one mail at a time.
        summary = mails_reingest(mail_ids, context=IngestContext())
        parts = ", ".join(f"{summary[s]} {s}" for s in ("parsed", "ignored", "failed", "pending"))
        self.stdout.write(f"{len(mail_ids)} mails: {parts}")
