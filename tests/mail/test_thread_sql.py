"""The fast path of thread_lookup (apps/mail/sql.py) reads what the plain Django path reads:
awaited rows, series members and arrived references, for every mail of a series with its
cover letter, a revision and replies, one of them still waiting for its parent."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.mail.arrival import thread_lookup
from apps.mail.models import IncomingMail
from apps.mail.parse import parse_mail
from tests.mails import deliver_all, git_mails

pytestmark = pytest.mark.django_db

MAILS = [
    *git_mails("v1"),
    *git_mails("v2"),
    "replies/reviewed.eml",
    "replies/acked.eml",
    "replies/unknown-parent.eml",
]


def seen(thread) -> tuple:
    awaited = sorted((a.msgid, a.kind, a.series_id, a.mail_id, a.position) for a in thread.awaited)
    return awaited, thread.members, thread.arrived


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
def test_the_fast_path_reads_what_the_orm_reads(frob):
    deliver_all(MAILS)
    kinds: set[str] = set()
    for mail in IncomingMail.objects.order_by("pk"):
        parsed = parse_mail(bytes(mail.raw))
        for refs in (parsed.refs, [], [parsed.msgid]):
            fast = thread_lookup(frob, parsed.msgid, refs, fast=True)
            plain = thread_lookup(frob, parsed.msgid, refs, fast=False)
            assert seen(fast) == seen(plain), (mail.msgid, refs)
            kinds |= {a.kind for a in fast.awaited}
            kinds |= {"member"} if fast.members else set()
            kinds |= {"arrived"} if fast.arrived else set()
    # The lookups found rows of every kind, not only nothing.
    assert kinds >= {"member", "arrived", "thread", "reply"}, kinds
