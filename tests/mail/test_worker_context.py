"""A worker's ingestion context is shared between mails, without serving stale projects."""

from __future__ import annotations

import pytest

from apps.mail.context import worker_context
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest_pending
from apps.patches.models import Patch, PatchTag
from tests.factories import make_project
from tests.mails import git_mails

pytestmark = pytest.mark.django_db


def ingest_as_worker(raw: bytes, list_id: str = "") -> IncomingMail:
    mail = mail_store(raw, list_id=list_id)
    return mail_ingest_pending(mail.pk)


def test_mails_of_one_worker_share_the_context(frob):
    first = worker_context()
    ingest_as_worker(git_mails("v1")[1].read_bytes())
    assert worker_context() is first
    assert "projects" in first.__dict__  # read once, kept for the next mail


def test_a_project_added_after_the_context_was_filled_gets_its_mail(frob):
    assert worker_context().projects  # filled before the new project exists
    make_project("late", listid="late.lists.example.org")
    mail = ingest_as_worker(git_mails("v1")[1].read_bytes(), list_id="late.lists.example.org")
    assert mail.status == IncomingMail.PARSED, mail.reason
    assert Patch.objects.get().project.linkname == "late"


def test_a_project_setting_changed_after_the_context_was_filled_applies_at_once(frob):
    assert worker_context().projects  # a copy of frob with use_tags on
    frob.use_tags = False
    frob.save()
    raw = (
        git_mails("v1")[1]
        .read_bytes()
        .replace(b"Signed-off-by: Ada", b"Reviewed-by: Bob <bob@example.org>\nSigned-off-by: Ada")
    )
    assert ingest_as_worker(raw).status == IncomingMail.PARSED
    assert not PatchTag.objects.exists()
