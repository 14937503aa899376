"""Raw mail is the source of truth: retention prunes it as configured, and re-ingesting it
rebuilds everything it produced after the produced data is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.events.models import Event
from apps.mail.intake import mail_store
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.services import mail_ingest
from apps.mail.tasks import mail_prune
from apps.patches.models import Cover, CoverComment, Patch, PatchComment, PatchTag
from apps.projects.models import Project
from apps.series.models import Series, SeriesReference
from config.celery import app as celery_app
from tests.mail.snapshot import snapshot
from tests.mails import git_mails, read

pytestmark = pytest.mark.django_db


@pytest.fixture
def frob(db):
    return Project.objects.create(
        linkname="frob", name="Frob", listid="frob.lists.example.org", listemail="frob@example.org"
    )


def mails() -> list[bytes]:
    raws = [p.read_bytes() for p in [*git_mails("v1"), *git_mails("v2")]]
    return raws + [read("replies/acked.eml"), read("replies/reviewed.eml")]


def lose_everything_but_raw_mail() -> None:
    for model in (Event, PatchTag, PatchComment, CoverComment, Patch, Series, Cover):
        model.objects.all().delete()
    AwaitedMessage.objects.all().delete()
    SeriesReference.objects.all().delete()


def test_reingesting_raw_mail_rebuilds_everything(frob):
    for raw in mails():
        mail_ingest(mail_store(raw))
    before = snapshot()
    assert before["patches"] and before["comments"] and before["events"]
    lose_everything_but_raw_mail()
    assert not Patch.objects.exists()

    call_command(
        "reingest", *map(str, IncomingMail.objects.order_by("pk").values_list("pk", flat=True))
    )
    assert snapshot() == before


def test_retention_prunes_old_processed_mail_only(frob, settings):
    raws = mails()[:3]
    stored = [mail_ingest(mail_store(raw)) for raw in raws]
    pending = mail_store(raws[0].replace(b"Message-Id: <", b"Message-Id: <pending-"))
    long_ago = timezone.now() - dt.timedelta(days=40)
    IncomingMail.objects.update(received=long_ago)
    recent = mail_ingest(mail_store(mails()[3]))
    patches = Patch.objects.count()

    settings.MAIL_RETENTION_DAYS = 0  # keep forever: nothing goes
    assert mail_prune() == 0
    settings.MAIL_RETENTION_DAYS = 30
    assert mail_prune() == len(stored)
    left = set(IncomingMail.objects.values_list("pk", flat=True))
    # Mail still to be ingested is never pruned; what the pruned mail produced stays.
    assert left == {pending.pk, recent.pk}
    assert Patch.objects.count() == patches


def test_the_retention_job_is_on_the_beat_schedule_and_in_cron():
    jobs = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "mail.prune" in jobs
    from django.conf import settings

    assert "mail.prune" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
