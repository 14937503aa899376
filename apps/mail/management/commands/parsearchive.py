"""manage.py parsearchive: load an mbox file or a Maildir into Patchwork."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.mail.archive import Progress, archive_ingest
from apps.mail.publicinbox import inbox_ingest, is_public_inbox

ORDER = ("patches", "covers", "comments", "ignored", "failed", "skipped")


def summary_line(summary, seconds: float) -> str:
    messages = sum(summary.values())
    parts = [f"{summary.get(key, 0)} {key}" for key in ORDER]
    parts += [f"{summary[key]} {key}" for key in summary if key not in ORDER]
    rate = messages / seconds if seconds > 0 else 0.0
    return f"{messages} messages: {', '.join(parts)} ({seconds:.1f}s, {rate:.0f} messages/s)"


class Command(BaseCommand):
    help = (
        "Parse an mbox file, a Maildir directory or a public-inbox repository (v1 or v2) "
        "and store its patches, cover letters and comments. Re-running skips the "
        "Message-IDs already stored (a public-inbox resumes after its last commit read)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="an mbox file, a Maildir directory or a public-inbox repository"
        )
        parser.add_argument("--list-id", default="", help="the list's id (instead of List-Id)")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (default when not a tty)"
        )

    def handle(self, *args, **options):
        show = not options["no_progress"] and sys.stderr.isatty()
        started = time.monotonic()

        def progress(p: Progress) -> None:
            width = 30
            filled = int(width * p.done / p.total) if p.total else width
            self.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {p.messages} messages",
                ending="",
            )

        if is_public_inbox(Path(options["path"])):
            summary = inbox_ingest(options["path"], list_id=options["list_id"], settle=True)
            self.stdout.write(summary_line(summary, time.monotonic() - started))
            return
        try:
            summary = archive_ingest(
                options["path"], list_id=options["list_id"], progress=progress if show else None
            )
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        if show:
            self.stderr.write("")
        self.stdout.write(summary_line(summary, time.monotonic() - started))
