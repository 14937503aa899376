"""Malformed mail: failed or ignored with a reason, never partial rows, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.events.models import Event
from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from apps.projects.models import Person
from apps.series.models import Series, SeriesReference
from tests.mails import deliver, git_mails, read

pytestmark = pytest.mark.django_db


def nothing_stored():
    return not (
        Patch.objects.exists()
        or Series.objects.exists()
        or Person.objects.exists()
        or Event.objects.exists()
        or SeriesReference.objects.exists()
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed/no-message-id.eml", "no Message-ID header"),
        ("malformed/long-message-id.eml", "Message-ID longer than 255 characters"),
        ("malformed/broken-base64.eml", "a text part has broken base64"),
        ("malformed/no-from.eml", "no From header"),
        ("malformed/long-email.eml", "sender address longer than 255 characters"),
        ("malformed/garbage.eml", "no headers"),
        ("malformed/empty.eml", "empty message"),
    ],
)
def test_unusable_mail_fails_with_its_reason_and_raw_bytes_kept(frob, name, reason):
    mail = deliver(name)
    assert mail.status == IncomingMail.FAILED
    assert mail.reason.startswith(reason)
    assert bytes(IncomingMail.objects.get().raw) == read(name)
    assert nothing_stored()


def test_bad_date_uses_the_time_the_mail_arrived(frob):
    mail = deliver("malformed/bad-date.eml")
    assert mail.status == IncomingMail.PARSED
    assert Patch.objects.get().date == mail.received


def test_overlong_subject_and_name_are_shortened(frob):
    deliver("malformed/long-names.eml")
    patch = Patch.objects.get()
    assert len(patch.name) == 255 and patch.name.endswith("…")
    assert len(patch.submitter.name) == 255


def test_missing_subject(frob):
    deliver("malformed/no-subject.eml")
    assert Patch.objects.get().name == ""


def test_nul_bytes_are_stripped(frob):
    assert deliver("malformed/nul-bytes.eml").status == IncomingMail.PARSED
    patch = Patch.objects.get()
    assert "\x00" not in patch.name + patch.content + patch.diff + patch.headers


@pytest.mark.parametrize(
    "name",
    ["encoding/wrong-charset.eml", "encoding/invalid-bytes.eml", "encoding/unknown-charset.eml"],
)
def test_bad_encodings_still_make_patches(frob, name):
    assert deliver(name).status == IncomingMail.PARSED


def test_a_failure_midway_leaves_no_partial_rows(frob, monkeypatch):
    """A bug after the patch row was written: the mail fails, nothing it wrote remains."""
    import apps.mail.submissions as submissions

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(submissions, "series_patch_added", explode)
    mail = deliver(git_mails("v1")[1])
    assert mail.status == IncomingMail.FAILED
    assert mail.reason == "internal error: RuntimeError: boom"
    assert mail.project == frob
    assert nothing_stored()


def test_failed_mail_is_reingested_after_the_fix(frob, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    import apps.mail.submissions as submissions

    original = submissions.series_patch_added
    monkeypatch.setattr(submissions, "series_patch_added", lambda **kw: 1 / 0)
    mail = deliver(git_mails("v1")[1])
    assert mail.status == IncomingMail.FAILED
    monkeypatch.setattr(submissions, "series_patch_added", original)
    out = StringIO()
    call_command("reingest", "--all-failed", stdout=out)
    mail.refresh_from_db()
    assert mail.status == IncomingMail.PARSED and mail.attempts == 2
    assert Patch.objects.count() == 1
    assert "1 mails: 1 parsed" in out.getvalue()


def test_oversized_mail_is_recorded_as_failed(frob, settings):
    from apps.mail.intake import mail_store

    settings.MAX_MAIL_SIZE = 1024
    raw = git_mails("v1")[3].read_bytes()
    mail = mail_store(raw)
    assert mail.status == IncomingMail.FAILED
    assert mail.reason.startswith(f"message of {len(raw)} bytes is larger than MAX_MAIL_SIZE")
    assert mail.msgid.startswith("<8364dd962df9")
    assert nothing_stored()


def test_received_is_aware(frob):
    mail = deliver("malformed/bad-date.eml")
    assert mail.received.tzinfo is not None and mail.processed >= mail.received - dt.timedelta(1)
