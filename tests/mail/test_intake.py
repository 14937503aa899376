"""Intake: parsemail (as an MTA runs it, and --sync), POST /mail/, reingest and rehash."""

from __future__ import annotations

import os
import sqlite3
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from tests.mails import DATA, deliver, git_mails, read
from tests.servers import manage as run_manage

ROOT = Path(__file__).resolve().parents[2]


def parsemail(*args: str, stdin: bytes | None = None) -> tuple[int, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        if stdin is None:
            call_command("parsemail", *args, stdout=out)
        else:
            import io

            fake = io.TextIOWrapper(io.BytesIO(stdin))
            old = sys.stdin
            sys.stdin = fake
            try:
                call_command("parsemail", *args, stdout=out)
            finally:
                sys.stdin = old
    return exit_.value.code, out.getvalue().strip()


@pytest.mark.django_db
def test_parsemail_sync_prints_the_outcome(frob):
    code, out = parsemail("--sync", str(git_mails("v1")[1]))
    patch = Patch.objects.get()
    assert (code, out) == (0, f"parsed: patch {patch.pk} in frob: {patch.name}")


@pytest.mark.django_db
def test_parsemail_sync_failure_exits_1_but_keeps_the_mail(frob):
    code, out = parsemail("--sync", str(DATA / "malformed/no-message-id.eml"))
    assert (code, out) == (1, "failed: no Message-ID header")
    assert IncomingMail.objects.get().status == IncomingMail.FAILED


@pytest.mark.django_db
def test_parsemail_sync_ignored(frob):
    code, out = parsemail("--sync", "--list-id", "unknown.example.org", str(git_mails("v1")[1]))
    assert (code, out) == (0, "ignored: no project for list unknown.example.org")


@pytest.mark.django_db(transaction=True)  # on_commit as in production
def test_parsemail_stdin_with_mbox_envelope_line(frob):
    raw = b"From ada@example.org Fri Mar  1 10:00:00 2024\n" + git_mails("v1")[1].read_bytes()
    code, out = parsemail(stdin=raw)
    assert code == 0
    assert out.startswith("parsed: patch")  # eager tasks: ingested before parsemail returns


@pytest.mark.django_db(transaction=True)  # on_commit as in production
def test_parsemail_without_sync_exits_0_even_for_bad_mail(frob):
    code, out = parsemail(str(DATA / "malformed/garbage.eml"))
    assert (code, out) == (0, "failed: no headers")


@pytest.mark.django_db
def test_parsemail_does_not_bounce_a_stored_mail_when_the_database_goes_away(frob, monkeypatch):
    """Stored, then the database (or broker) fails: exit 0, the sweep ingests it later."""
    from django.db import OperationalError

    def gone(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(IncomingMail, "refresh_from_db", gone)
    code, out = parsemail(str(git_mails("v1")[1]))
    mail = IncomingMail.objects.get()
    assert (code, out) == (0, f"stored as mail {mail.pk}; ingestion will be retried")


@pytest.mark.django_db
def test_parsemail_missing_file_is_a_tempfail(frob):
    code, _ = parsemail("/nonexistent/mail")
    assert code == 75
    assert not IncomingMail.objects.exists()


# --- as an MTA runs it: a separate process reading stdin ------------------------------


@pytest.fixture
def process_env(tmp_path, settings):
    """Environment for a manage.py subprocess that sees this test's database."""
    env = {**os.environ, "DEBUG": "1", "CELERY_TASK_ALWAYS_EAGER": "1"}
    env.pop("PATCHWORK_REQUIRE_SERVICES", None)
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
        return env, None
    # The SQLite test database lives in memory: hand the process a file copy of it.
    env.pop("DATABASE_URL", None)
    env["PATCHWORK_VAR_DIR"] = str(tmp_path)
    path = tmp_path / "patchwork.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    return env, path


def count_patches(path: Path | None) -> int:
    if path is None:
        return Patch.objects.count()
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM patches_patch").fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_mta_pipe_stores_and_ingests(frob, process_env):
    env, path = process_env
    done = run_manage(env, "parsemail", "--skip-checks", stdin=git_mails("v1")[1].read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert count_patches(path) == 1
    failed = run_manage(
        env, "parsemail", "--sync", "--skip-checks", stdin=read("malformed/no-from.eml")
    )
    assert (failed.returncode, failed.stdout.decode().strip()) == (1, "failed: no From header")


def test_parsemail_exits_75_when_the_mail_cannot_be_stored(db):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere"}
    env.pop("PATCHWORK_REQUIRE_SERVICES", None)
    done = run_manage(env, "parsemail", "--skip-checks", stdin=git_mails("v1")[1].read_bytes())
    assert done.returncode == 75
    assert b"could not store the mail" in done.stderr


# --- POST /mail/ ------------------------------------------------------------------------


@pytest.fixture
def intake(settings):
    settings.MAIL_INTAKE_TOKEN = "s3cret"
    return "/mail/"


@pytest.mark.django_db(transaction=True)  # on_commit as in production
def test_post_mail_stores_and_answers_202(client, frob, intake):
    response = client.post(
        intake,
        data=git_mails("v1")[1].read_bytes(),
        content_type="message/rfc822",
        HTTP_AUTHORIZATION="Bearer s3cret",
    )
    assert response.status_code == 202
    mail = IncomingMail.objects.get()
    assert response.json()["id"] == mail.pk
    assert response.json()["status"] == "parsed"  # eager tasks ingest on commit
    assert Patch.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # on_commit as in production
def test_post_mail_with_list_id_and_token_header(client, intake):
    from tests.factories import make_project

    other = make_project("other", listid="other.example.org")
    response = client.post(
        f"{intake}?list_id=other.example.org",
        data=git_mails("single")[0].read_bytes(),
        content_type="message/rfc822",
        HTTP_X_MAIL_TOKEN="s3cret",
    )
    assert response.status_code == 202
    assert Patch.objects.get().project == other


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("token", "status"), [("", 401), ("wrong", 401), ("s3cret-but-longer", 401)]
)
def test_post_mail_needs_the_token(client, frob, intake, token, status):
    response = client.post(
        intake, data=b"x", content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == status
    assert not IncomingMail.objects.exists()


@pytest.mark.django_db
def test_post_mail_disabled_without_a_token(client, settings):
    settings.MAIL_INTAKE_TOKEN = ""
    response = client.post("/mail/", data=b"x", content_type="message/rfc822")
    assert response.status_code == 404


@pytest.mark.django_db
def test_post_mail_bad_requests(client, intake, settings):
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret"}
    assert client.get(intake, **auth).status_code == 405
    assert client.post(intake, data=b"  ", content_type="message/rfc822", **auth).status_code == 400
    settings.MAX_MAIL_SIZE = 2048
    big = client.post(intake, data=b"x" * 4096, content_type="message/rfc822", **auth)
    assert big.status_code == 413
    assert not IncomingMail.objects.exists()


# --- reingest, rehash ---------------------------------------------------------------------


@pytest.mark.django_db
def test_reingest_by_id_and_errors(frob):
    mail = deliver("malformed/no-from.eml")
    out = StringIO()
    call_command("reingest", str(mail.pk), stdout=out)
    assert out.getvalue().strip() == "1 mails: 0 parsed, 0 ignored, 1 failed, 0 pending"
    mail.refresh_from_db()
    assert mail.attempts == 2
    with pytest.raises(CommandError, match="no incoming mail with id 999"):
        call_command("reingest", "999")
    with pytest.raises(CommandError, match="give IncomingMail ids"):
        call_command("reingest")


@pytest.mark.django_db
def test_reingest_queue_hands_mail_to_the_workers(frob):
    from apps.mail.intake import mail_store

    mail = mail_store(git_mails("v1")[1].read_bytes())
    out = StringIO()
    call_command("reingest", "--pending", "--queue", stdout=out)  # eager: runs at once
    assert out.getvalue().strip() == "1 mails: 1 queued"
    mail.refresh_from_db()
    assert mail.status == IncomingMail.PARSED  # eager tasks


@pytest.mark.django_db
def test_rehash(frob):
    deliver(git_mails("v1")[1])
    deliver(DATA / "git/pull.eml")
    patch = Patch.objects.get(diff__isnull=False)
    right = patch.hash
    Patch.objects.update(hash="0" * 40)
    out = StringIO()
    call_command("rehash", stdout=out)
    assert out.getvalue().strip() == "2 patches, 2 hashes changed"
    assert dict(Patch.objects.values_list("pk", "hash")) == {
        patch.pk: right,
        Patch.objects.get(diff__isnull=True).pk: None,
    }
    call_command("rehash", str(patch.pk), stdout=out)
    assert out.getvalue().strip().endswith("1 patches, 0 hashes changed")
