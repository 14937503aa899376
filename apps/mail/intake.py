"""Mail intake: every message is stored durably (an IncomingMail row) before anything
else; the caller then queues its ingestion (apps/mail/services.py) with
tasks.mail_enqueue_on_commit, once that row is committed."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from apps.mail.models import IncomingMail
from apps.mail.parse.headers import PEEK_BYTES, peek_msgid

__all__ = ["OVERSIZE_KEEP", "mail_new", "mail_store", "peek_msgid"]

# What is kept of a message too large to accept: enough headers to see what it was.
OVERSIZE_KEEP = PEEK_BYTES


def mail_store(raw: bytes, *, list_id: str = "", size: int | None = None) -> IncomingMail:
    """Store a raw message durably (the caller queues its ingestion: tasks.py).

    size: the message's full size when raw is only its start (a reader that stopped
    past MAX_MAIL_SIZE).
    """
    mail = mail_new(raw, list_id=list_id, size=size)
    mail.save()
    return mail


def mail_new(
    raw: bytes, *, list_id: str = "", size: int | None = None, msgid: str | None = None
) -> IncomingMail:
    """The IncomingMail row for a raw message, not saved yet (failed if it is too large).

    msgid: its peek_msgid, when the caller has it already."""
    msgid = peek_msgid(raw) if msgid is None else msgid
    list_id = (list_id or "").strip()[:255]
    size = len(raw) if size is None else size
    if size > settings.MAX_MAIL_SIZE:
        return IncomingMail(
            raw=raw[:OVERSIZE_KEEP],
            list_id=list_id,
            msgid=msgid,
            status=IncomingMail.FAILED,
            reason=f"message of {size} bytes is larger than MAX_MAIL_SIZE "
            f"({settings.MAX_MAIL_SIZE}); only its first {OVERSIZE_KEEP} bytes are kept",
            processed=timezone.now(),
        )
    return IncomingMail(raw=raw, list_id=list_id, msgid=msgid)
