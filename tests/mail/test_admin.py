"""The incoming mail admin: failed mail visible with its raw bytes (escaped), re-ingestion."""

from __future__ import annotations

import pytest

from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from tests.mails import deliver, git_mails

pytestmark = pytest.mark.django_db


def test_failed_mail_is_listed_and_shown_escaped(client, superuser, frob):
    raw = (
        git_mails("v1")[1]
        .read_bytes()
        .replace(b"Message-Id: <", b"X-Evil: <script>alert(1)</script>\nMessage-Id: <")
    )
    raw = raw.replace(b"From: Ada Lovelace <ada@example.org>", b"From: nobody")
    mail = deliver(raw)
    assert mail.status == "failed"
    client.force_login(superuser)
    listing = client.get("/admin/mail/incomingmail/?status__exact=failed")
    assert listing.status_code == 200 and b"no e-mail address in the From header" in listing.content
    page = client.get(f"/admin/mail/incomingmail/{mail.pk}/change/")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content
    assert b"<script>alert(1)</script>" not in page.content


def test_reingest_action(client, superuser, frob, monkeypatch):
    import apps.mail.submissions as submissions

    original = submissions.series_patch_added
    monkeypatch.setattr(submissions, "series_patch_added", lambda **kw: 1 / 0)
    mail = deliver(git_mails("v1")[1])
    monkeypatch.setattr(submissions, "series_patch_added", original)
    client.force_login(superuser)
    response = client.post(
        "/admin/mail/incomingmail/",
        {"action": "reingest", "_selected_action": [mail.pk]},
        follow=True,
    )
    assert b"Ingested 1 mails again: 1 parsed." in response.content
    assert IncomingMail.objects.get().status == "parsed"
    assert Patch.objects.count() == 1
