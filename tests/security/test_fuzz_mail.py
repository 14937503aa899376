"""Short fuzz runs over the mail parser and ingestion (the soak harness runs longer ones).

Whatever the bytes: the parser raises MailParseError or returns, ingestion
never raises, and a mail that fails or is ignored leaves nothing behind.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from apps.events.models import Event
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.parse import MailParseError, parse_mail
from apps.mail.services import mail_ingest
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Project
from apps.series.models import Series
from tests.security.strategies import LIST_ID, any_mail

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STORED = (Patch, Cover, PatchComment, CoverComment, Series, Event)


@FAST
@given(any_mail)
def test_the_parser_only_ever_raises_mail_parse_error(raw):
    try:
        parsed = parse_mail(raw)
    except MailParseError as exc:
        assert str(exc)  # a reason to keep with the mail
        return
    assert parsed.msgid.startswith("<") and len(parsed.msgid) <= 255


@pytest.mark.django_db
@settings(FAST, max_examples=40)
@given(raw=any_mail)
def test_ingestion_never_raises_and_stores_nothing_partial(raw):
    Project.objects.get_or_create(
        linkname="fuzz", defaults={"name": "Fuzz", "listid": LIST_ID, "listemail": "f@example.org"}
    )
    before = [model.objects.count() for model in STORED]
    mail = mail_ingest(mail_store(raw))
    assert mail.status in (IncomingMail.PARSED, IncomingMail.IGNORED, IncomingMail.FAILED)
    assert mail.status == IncomingMail.PARSED or mail.reason
    after = [model.objects.count() for model in STORED]
    if mail.status != IncomingMail.PARSED:
        assert after == before, (mail.status, mail.reason)
    assert bytes(IncomingMail.objects.get(pk=mail.pk).raw) == raw  # kept whatever became of it
