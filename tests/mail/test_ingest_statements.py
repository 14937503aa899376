"""SQL statements per ingested mail stay few, on both paths (issue 11: at most 10 a mail on
average, which `./dev bench --only ingest` measures on a large archive; this guards the
shape of the common cases: a patch joining its series, a review)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection

from apps.mail.context import IngestContext, worker_context
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest_pending, mail_store_ingest
from tests.mails import git_mails, read

# Committed transactions, as in production: no test savepoints, people cached once committed.
pytestmark = pytest.mark.django_db(transaction=True)

# A series with its cover letter, then a review of its first patch.
COVER, *PATCHES = git_mails("v1")
REVIEW = "replies/reviewed.eml"
POSTGRES = connection.vendor == "postgresql"


@contextmanager
def statements():
    """Every statement sent, counted as bench/querycount.py does (BEGIN and COMMIT are not)."""
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


def as_worker(raw: bytes) -> list[str]:
    """Intake (parsemail, POST /mail/) and the worker's task: the statements of both."""
    with statements() as sent:
        mail = mail_ingest_pending(mail_store(raw).pk)
    assert mail.status == IncomingMail.PARSED, mail.reason
    return sent


def from_archive(raw: bytes, context: IngestContext) -> list[str]:
    with statements() as sent:
        mail = mail_store_ingest(raw, context=context)
    assert mail.status == IncomingMail.PARSED, mail.reason
    return sent


def test_the_worker_path(frob):
    # The worker's context is filled (states, rules, tags), the series exists.
    as_worker(COVER.read_bytes())
    as_worker(PATCHES[0].read_bytes())
    context = worker_context()
    for path in PATCHES[1:]:
        sent = as_worker(path.read_bytes())
        # Intake; claim; project lock; thread; series; patch; its reference; what it waits
        # for; the mail's outcome; events; webhooks.
        assert len(sent) <= (11 if POSTGRES else 12), sent
    review = as_worker(read(REVIEW))  # a new person, a comment, its tags
    assert len(review) <= (15 if POSTGRES else 16), review
    assert worker_context() is context


def test_an_archive_load(frob):
    context = IngestContext()
    from_archive(COVER.read_bytes(), context)
    from_archive(PATCHES[0].read_bytes(), context)
    for path in PATCHES[1:]:
        sent = from_archive(path.read_bytes(), context)
        # Project lock; thread; series; patch; its reference; what it waits for; the mail's
        # row with its outcome; events; webhooks.
        assert len(sent) <= (9 if POSTGRES else 10), sent
    assert len(from_archive(read(REVIEW), context)) <= (13 if POSTGRES else 14)
