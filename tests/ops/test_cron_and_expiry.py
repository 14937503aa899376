"""manage.py cron and the beat schedule: the same periodic jobs, including expiry of stale sign-ups."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from celery import shared_task
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.models import EmailConfirmation, User
from apps.patches.models import PatchChangeNotification
from apps.patches.services import patch_update
from config.celery import app
from tests.factories import default_state, make_patch, make_project, make_user

pytestmark = pytest.mark.django_db


@shared_task(name="tests.ops.broken_job")
def broken_job():
    raise RuntimeError("this job is broken")


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def registration(user: User, *, age_days: float) -> EmailConfirmation:
    return EmailConfirmation.objects.create(
        type=EmailConfirmation.REGISTRATION, email=user.email, user=user, date=days_ago(age_days)
    )


@pytest.fixture
def validity(settings):
    settings.CONFIRMATION_VALIDITY_DAYS = 7
    return 7


def test_beat_schedule_names_registered_tasks_and_follows_the_delay(settings):
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["patch-notifications"]["task"] == "patches.notifications_send"
    assert schedule["patch-notifications"]["schedule"] == 60 * max(
        settings.NOTIFICATION_DELAY_MINUTES, 1
    )
    assert schedule["expire-confirmations"]["task"] == "projects.confirmations_expire"
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name} names an unknown task {entry['task']}"


def test_expiry_removes_stale_signups_and_keeps_everything_else(validity):
    stale = make_user("stale", is_active=False)
    registration(stale, age_days=validity + 1)
    fresh = make_user("fresh", is_active=False)
    fresh_conf = registration(fresh, age_days=validity - 1)
    # Confirmed long ago: the confirmation goes, the (active) account stays.
    confirmed = make_user("confirmed")
    used = registration(confirmed, age_days=validity + 30)
    EmailConfirmation.objects.filter(pk=used.pk).update(active=False)
    # Deactivated by an admin, never registered here: not ours to delete.
    deactivated = make_user("deactivated", is_active=False)
    # Asked again after the first link lapsed: the new request keeps the account.
    retried = make_user("retried", is_active=False)
    registration(retried, age_days=validity + 2)
    retried_conf = registration(retried, age_days=1)
    # An old e-mail link request of an active user.
    linker = make_user("linker")
    EmailConfirmation.objects.create(
        type=EmailConfirmation.USERPERSON,
        email="second@example.com",
        user=linker,
        date=days_ago(validity + 1),
    )

    call_command("cron", "expire-confirmations", stdout=io.StringIO())

    assert set(User.objects.values_list("username", flat=True)) == {
        "fresh",
        "confirmed",
        "deactivated",
        "retried",
        "linker",
    }
    assert set(EmailConfirmation.objects.values_list("pk", flat=True)) == {
        fresh_conf.pk,
        retried_conf.pk,
    }
    assert User.objects.get(pk=deactivated.pk).is_active is False
    assert not User.objects.filter(pk=stale.pk).exists()


def test_cron_runs_every_job(settings, maintainer, submitter, validity, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_DELAY_MINUTES = 0
    project = make_project("cronproj", send_notifications=True, maintainers=[maintainer])
    patch = make_patch(project, submitter=submitter)
    patch_update(patch=patch, actor=maintainer, state=default_state("accepted"))
    stale = make_user("stale", is_active=False)
    registration(stale, age_days=validity + 1)

    call_command("cron")

    out = capsys.readouterr().out
    assert "patch-notifications: ok (1)" in out
    assert "expire-confirmations: ok" in out
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [f"Sam Submitter <{submitter.email}>"]
    assert not PatchChangeNotification.objects.exists()
    assert not User.objects.filter(pk=stale.pk).exists()


def test_cron_runs_only_the_named_jobs(settings, maintainer, submitter, validity):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_DELAY_MINUTES = 0
    project = make_project("cronproj", send_notifications=True, maintainers=[maintainer])
    patch_update(
        patch=make_patch(project, submitter=submitter),
        actor=maintainer,
        state=default_state("accepted"),
    )
    stale = make_user("stale", is_active=False)
    registration(stale, age_days=validity + 1)

    call_command("cron", "expire-confirmations", stdout=io.StringIO())

    assert mail.outbox == []
    assert PatchChangeNotification.objects.count() == 1
    assert not User.objects.filter(pk=stale.pk).exists()


def test_cron_refuses_unknown_jobs_and_runs_nothing(validity):
    stale = make_user("stale", is_active=False)
    registration(stale, age_days=validity + 1)

    with pytest.raises(CommandError, match="unknown job.*no-such-job.*known: "):
        call_command("cron", "expire-confirmations", "no-such-job")

    assert User.objects.filter(pk=stale.pk).exists()


def test_a_failing_job_is_reported_and_the_others_still_run(settings, validity, capsys):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "tests.ops.broken_job", "schedule": 60.0},
        **settings.CELERY_BEAT_SCHEDULE,
    }
    stale = make_user("stale", is_active=False)
    registration(stale, age_days=validity + 1)

    with pytest.raises(CommandError, match="1 job\\(s\\) failed: broken"):
        call_command("cron")

    captured = capsys.readouterr()
    assert "this job is broken" in captured.err
    assert "expire-confirmations: ok" in captured.out
    assert not User.objects.filter(pk=stale.pk).exists()


def test_cron_lists_its_jobs(capsys, settings):
    call_command("cron", "--list")
    out = capsys.readouterr().out
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert f"{name}: {entry['task']}" in out
