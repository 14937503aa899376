"""Patch-change notification digests: batching, content, opt-outs, change-back, bad recipients."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import resolve
from django.utils import timezone

from apps.accounts.models import EmailOptout
from apps.patches.models import PatchChangeNotification
from apps.patches.notifications import notifications_send
from apps.patches.services import patch_update
from tests.factories import default_state, make_patch, make_person, make_project

pytestmark = pytest.mark.django_db

DELAY = 10


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_DELAY_MINUTES = DELAY
    settings.NOTIFICATION_FROM_EMAIL = "Patchwork <notify@patchwork.example.org>"
    settings.SITE_URL = "https://patchwork.example.org"


@pytest.fixture
def notifying(maintainer):
    return make_project("notify", send_notifications=True, maintainers=[maintainer])


def later(minutes: int = DELAY + 1):
    return timezone.now() + timedelta(minutes=minutes)


def set_state(patch, slug, actor):
    return patch_update(patch=patch, actor=actor, state=default_state(slug))


def test_one_digest_per_submitter_lists_every_settled_change(notifying, submitter, maintainer):
    first = make_patch(notifying, submitter=submitter, name="[PATCH 1/2] first")
    second = make_patch(notifying, submitter=submitter, name="[PATCH 2/2] second")
    set_state(first, "accepted", maintainer)
    set_state(second, "under-review", maintainer)
    set_state(second, "changes-requested", maintainer)

    report = notifications_send(now=later())

    assert report.sent == [submitter.email]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [f"Sam Submitter <{submitter.email}>"]
    assert message.from_email == "Patchwork <notify@patchwork.example.org>"
    assert message.subject == "Patch update notification: 2 patches updated"
    assert message.extra_headers["Precedence"] == "bulk"
    rendered = message.message()
    assert rendered["Precedence"] == "bulk"
    body = message.body
    assert " * notify: [PATCH 1/2] first" in body
    assert " * notify: [PATCH 2/2] second" in body
    first_url = f"https://patchwork.example.org/project/notify/patch/{first.url_msgid}/"
    assert f"     - {first_url}\n    was: New\n    now: Accepted" in body
    # Two changes of the second patch: one entry, from the original state to the last.
    assert "    was: New\n    now: Changes Requested" in body
    assert body.count("was:") == 2
    optout = f"https://patchwork.example.org/mail/optout/?email={quote(submitter.email)}"
    assert f"To stop receiving these notifications, opt out at:\n  {optout}\n" in body
    assert rendered["List-Unsubscribe"] == f"<{optout}>"
    # The links lead to the patch page and the opt-out page.
    match = resolve(urlsplit(first_url).path)
    assert match.url_name == "patch-detail"
    assert match.kwargs == {"linkname": "notify", "msgid": first.url_msgid}
    assert resolve(urlsplit(optout).path).url_name == "mail-optout"
    assert not PatchChangeNotification.objects.exists()

    # Nothing is sent twice.
    assert notifications_send(now=later()).sent == []
    assert len(mail.outbox) == 1


def test_changes_not_settled_wait_for_a_later_run(notifying, submitter, maintainer):
    patch = make_patch(notifying, submitter=submitter)
    set_state(patch, "accepted", maintainer)

    assert notifications_send(now=later(DELAY - 1)).sent == []
    assert mail.outbox == []
    assert PatchChangeNotification.objects.filter(patch=patch).exists()

    assert notifications_send(now=later()).sent == [submitter.email]
    assert len(mail.outbox) == 1


def test_a_later_change_restarts_the_delay_and_unsettled_patches_stay_out(
    notifying, submitter, maintainer
):
    settled = make_patch(notifying, submitter=submitter, name="settled one")
    fresh = make_patch(notifying, submitter=submitter, name="fresh one")
    set_state(settled, "accepted", maintainer)
    set_state(fresh, "accepted", maintainer)
    PatchChangeNotification.objects.filter(patch=settled).update(
        last_modified=timezone.now() - timedelta(minutes=DELAY + 5)
    )

    notifications_send(now=timezone.now() + timedelta(minutes=1))

    assert len(mail.outbox) == 1
    assert "settled one" in mail.outbox[0].body
    assert "fresh one" not in mail.outbox[0].body
    assert mail.outbox[0].subject == "Patch update notification: 1 patch updated"
    assert list(PatchChangeNotification.objects.values_list("patch_id", flat=True)) == [fresh.pk]


def test_change_and_change_back_sends_nothing(notifying, submitter, maintainer):
    patch = make_patch(notifying, submitter=submitter)
    set_state(patch, "accepted", maintainer)
    assert PatchChangeNotification.objects.filter(patch=patch).exists()
    set_state(patch, "new", maintainer)

    assert not PatchChangeNotification.objects.exists()
    assert notifications_send(now=later()).sent == []
    assert mail.outbox == []


def test_project_without_notifications_records_and_sends_nothing(submitter, maintainer):
    quiet = make_project("quiet", send_notifications=False, maintainers=[maintainer])
    patch = make_patch(quiet, submitter=submitter)
    set_state(patch, "accepted", maintainer)

    assert not PatchChangeNotification.objects.exists()
    notifications_send(now=later())
    assert mail.outbox == []


def test_other_changes_than_state_record_nothing(notifying, submitter, maintainer):
    patch = make_patch(notifying, submitter=submitter)
    patch_update(patch=patch, actor=maintainer, archived=True, commit_ref="abc123")
    assert not PatchChangeNotification.objects.exists()


def test_each_submitter_gets_only_their_own_patches(notifying, submitter, maintainer):
    other = make_person("other@example.com", name="Olga Other")
    mine = make_patch(notifying, submitter=submitter, name="mine")
    theirs = make_patch(notifying, submitter=other, name="theirs")
    set_state(mine, "accepted", maintainer)
    set_state(theirs, "rejected", maintainer)

    report = notifications_send(now=later())

    assert sorted(report.sent) == sorted([submitter.email, "other@example.com"])
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    assert len(mail.outbox) == 2
    assert "mine" in by_recipient[f"Sam Submitter <{submitter.email}>"]
    assert "theirs" not in by_recipient[f"Sam Submitter <{submitter.email}>"]
    assert "theirs" in by_recipient["Olga Other <other@example.com>"]
    assert "now: Rejected" in by_recipient["Olga Other <other@example.com>"]


def test_opted_out_addresses_are_skipped(notifying, submitter, maintainer):
    other = make_person("other@example.com", name="Olga Other")
    mine = make_patch(notifying, submitter=submitter)
    theirs = make_patch(notifying, submitter=other)
    set_state(mine, "accepted", maintainer)
    set_state(theirs, "accepted", maintainer)
    # Opting out during the delay counts; addresses compare case-insensitively.
    EmailOptout.objects.create(email=submitter.email.upper())

    report = notifications_send(now=later())

    assert report.opted_out == [submitter.email]
    assert [m.to for m in mail.outbox] == [["Olga Other <other@example.com>"]]
    assert not PatchChangeNotification.objects.exists()


def test_opted_out_address_is_not_even_recorded(notifying, submitter, maintainer):
    EmailOptout.objects.create(email=submitter.email)
    set_state(make_patch(notifying, submitter=submitter), "accepted", maintainer)
    assert not PatchChangeNotification.objects.exists()


@pytest.mark.parametrize(
    "email, name",
    [("not-an-address", "Nobody"), ("evil@example.com", "Evil\nBcc: victim@example.com")],
)
def test_invalid_recipients_are_skipped_and_logged(
    notifying, submitter, maintainer, caplog, email, name
):
    bad = make_person(email, name=name)
    set_state(make_patch(notifying, submitter=bad), "accepted", maintainer)
    set_state(make_patch(notifying, submitter=submitter), "accepted", maintainer)

    report = notifications_send(now=later())

    assert report.invalid == [email]
    assert report.sent == [submitter.email]
    assert len(mail.outbox) == 1
    assert "victim" not in str(mail.outbox[0].message())
    assert any(
        "invalid recipient" in r.getMessage() and email in r.getMessage() for r in caplog.records
    )
    # An address that can never receive mail does not stay pending forever.
    assert not PatchChangeNotification.objects.exists()


class RefusingBackend(LocmemBackend):
    """Like locmem, but the server refuses one recipient."""

    def send_messages(self, messages):
        for message in messages:
            if any("refused@" in to for to in message.to):
                raise smtplib.SMTPRecipientsRefused({"refused@example.com": (550, b"no such user")})
        return super().send_messages(messages)


class DownBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("connection lost")


def test_recipient_refused_by_the_server_is_skipped(notifying, submitter, maintainer, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    refused = make_person("refused@example.com")
    set_state(make_patch(notifying, submitter=refused), "accepted", maintainer)
    set_state(make_patch(notifying, submitter=submitter), "accepted", maintainer)

    report = notifications_send(now=later())

    assert report.invalid == ["refused@example.com"]
    assert report.sent == [submitter.email]
    assert len(mail.outbox) == 1
    assert not PatchChangeNotification.objects.exists()


def test_mail_server_down_keeps_notifications_for_the_next_run(
    notifying, submitter, maintainer, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    set_state(make_patch(notifying, submitter=submitter), "accepted", maintainer)

    report = notifications_send(now=later())

    assert report.failed == [submitter.email]
    assert PatchChangeNotification.objects.count() == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_send(now=later()).sent == [submitter.email]
    assert len(mail.outbox) == 1


def test_sending_queries_are_bounded_per_recipient(
    notifying, maintainer, django_assert_max_num_queries
):
    for n in range(3):
        person = make_person(f"p{n}@example.com")
        for _ in range(4):
            set_state(make_patch(notifying, submitter=person), "accepted", maintainer)

    # 3 to find people and opt-outs, then per recipient: claim, delete, savepoint.
    with django_assert_max_num_queries(3 + 3 * 4):
        report = notifications_send(now=later())
    assert len(report.sent) == 3
    assert all(m.body.count("was: New") == 4 for m in mail.outbox)
