"""Mail intake: every message is stored durably (an IncomingMail row) before anything
else; the caller then queues its ingestion (apps/mail/services.py) with
tasks.mail_enqueue_on_commit, once that row is committed."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32

from django.conf import settings
from django.utils import timezone

from apps.mail.models import IncomingMail
from apps.mail.parse import MailParseError
from apps.mail.parse.headers import decode_header, parse_msgid

# What is kept of a message too large to accept: enough headers to see what it was.
OVERSIZE_KEEP = 64 * 1024


def peek_msgid(raw: bytes) -> str:
    """The Message-ID as written, for listing and resuming; '' when there is none."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:OVERSIZE_KEEP])
        value = str(headers.get("Message-Id", ""))
    except Exception:  # intake never fails on content; parsing reports it later
        return ""
    try:
        return parse_msgid(value)
    except MailParseError:
        return decode_header(value)[:255]


def mail_store(raw: bytes, *, list_id: str = "", size: int | None = None) -> IncomingMail:
    """Store a raw message durably (the caller queues its ingestion: tasks.py).

    size: the message's full size when raw is only its start (a reader that stopped
    past MAX_MAIL_SIZE).
    """
    mail = mail_new(raw, list_id=list_id, size=size)
    mail.save()
    return mail


def mail_new(raw: bytes, *, list_id: str = "", size: int | None = None) -> IncomingMail:
    """The IncomingMail row for a raw message, not saved yet (failed if it is too large)."""
    list_id = (list_id or "").strip()[:255]
    size = len(raw) if size is None else size
    if size > settings.MAX_MAIL_SIZE:
        return IncomingMail(
            raw=raw[:OVERSIZE_KEEP],
            list_id=list_id,
            msgid=peek_msgid(raw),
            status=IncomingMail.FAILED,
            reason=f"message of {size} bytes is larger than MAX_MAIL_SIZE "
            f"({settings.MAX_MAIL_SIZE}); only its first {OVERSIZE_KEEP} bytes are kept",
            processed=timezone.now(),
        )
    return IncomingMail(raw=raw, list_id=list_id, msgid=peek_msgid(raw))
