"""manage.py parsemail: take one mail from an MTA (stdin) or a file into Patchwork."""

from __future__ import annotations

import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from apps.mail.tasks import mail_enqueue_on_commit

log = logging.getLogger(__name__)

EX_OK = 0
EX_FAILED = 1
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the mail and tries again later
DRAIN_CHUNK = 64 * 1024


def read_bounded(stream, limit: int, *, drain: bool) -> tuple[bytes, int]:
    """(at most limit + 1 bytes of the stream, its full size).

    limit + 1 bytes tell a message too large from one that fits, so a mail of any
    size never takes more memory than that. With drain, the rest is read in small
    chunks and dropped, so the MTA piping it sees the whole message taken.
    """
    head = stream.read(limit + 1)
    size = len(head)
    if drain and size > limit:
        while chunk := stream.read(min(DRAIN_CHUNK, limit + 1)):
            size += len(chunk)
    return head, size


def strip_envelope(raw: bytes) -> bytes:
    """Drop the mbox "From sender date" line an MTA or mbox file may put first."""
    if raw.startswith(b"From ") and not raw.startswith(b"From: "):
        return raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def outcome_line(mail: IncomingMail) -> str:
    if mail.status == IncomingMail.PARSED:
        return f"parsed: {mail.outcome}"
    if mail.status == IncomingMail.PENDING:
        return f"queued: mail {mail.pk}"
    return f"{mail.status}: {mail.reason}"


class Command(BaseCommand):
    help = (
        "Store one mail (stdin or a file) and ingest it. Exits 0 once the mail is stored, "
        "75 if it could not be stored (the MTA retries). With --sync, ingests in this "
        "process, prints the outcome and exits 1 if the mail failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("infile", nargs="?", help="the mail; stdin when absent")
        parser.add_argument("--list-id", default="", help="the list's id (instead of List-Id)")
        parser.add_argument(
            "--sync", action="store_true", help="ingest now, in this process, and report"
        )

    def handle(self, *args, **options):
        limit = settings.MAX_MAIL_SIZE
        try:
            if options["infile"]:
                with open(options["infile"], "rb") as fh:
                    raw, _ = read_bounded(fh, limit, drain=False)
                    size = os.fstat(fh.fileno()).st_size
            else:
                raw, size = read_bounded(sys.stdin.buffer, limit, drain=True)
            mail = mail_store(
                strip_envelope(raw),
                list_id=options["list_id"],
                size=size if size > limit else None,
            )
            if not options["sync"]:
                mail_enqueue_on_commit(mail)
        except Exception as exc:  # not stored: the MTA must keep it and retry
            self.stderr.write(f"parsemail: could not store the mail: {exc}")
            sys.exit(EX_TEMPFAIL)
        try:
            if options["sync"]:
                mail = mail_ingest(mail)
            else:
                mail.refresh_from_db()
        except Exception as exc:
            # Stored: whatever fails now must not bounce the mail (the sweep ingests it).
            log.warning("mail %s is stored, but: %s", mail.pk, exc, exc_info=True)
            self.stdout.write(f"stored as mail {mail.pk}; ingestion will be retried")
            sys.exit(EX_OK)
        self.stdout.write(outcome_line(mail))
        if options["sync"] and mail.status == IncomingMail.FAILED:
            sys.exit(EX_FAILED)
        sys.exit(EX_OK)
