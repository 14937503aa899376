"""manage.py follow-inbox: ingest what a local public-inbox mirror received since last time."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from apps.mail.management.commands.parsearchive import summary_line
from apps.mail.publicinbox import NotAnInbox, inbox_ingest


class Command(BaseCommand):
    help = (
        "Ingest the messages a public-inbox repository (v1, or v2 with its epochs) received "
        "since the last run, e.g. after grokmirror or git fetch updated it. Run it from cron, "
        "or list the inboxes in PUBLIC_INBOX_PATHS for celery beat to follow."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="public-inbox repositories")
        parser.add_argument("--list-id", default="", help="the list's id (instead of List-Id)")

    def handle(self, *args, paths: list[str], list_id: str, **options):
        for path in paths:
            started = time.monotonic()
            try:
                summary = inbox_ingest(path, list_id=list_id)
            except NotAnInbox as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{path}: {summary_line(summary, time.monotonic() - started)}")
