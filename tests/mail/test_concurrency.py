"""Real concurrency on PostgreSQL: parallel workers, double delivery, a worker killed mid-ingest."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.mail.archive import iter_mbox
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from apps.mail.tasks import mail_sweep
from apps.patches.models import Patch
from apps.projects.models import Project
from apps.series.revisions import revisions_supersede_due
from tests.mail.concurrency_env import worker_env
from tests.mail.snapshot import reset_ingested, snapshot, snapshot_diff
from tests.mails import DATA, git_mails, read

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "apps" / "mail" / "demo" / "demo.mbox"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): parallel workers and row locks",
    ),
    pytest.mark.django_db(transaction=True),
]

WORKER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
for pk in map(int, sys.argv[1:]):
    mail_ingest(IncomingMail.objects.get(pk=pk))
"""


def corpus() -> list[bytes]:
    """Several series (threaded, deep, unthreaded, v2 in reply to v1, Mercurial, a v3 cover
    letter with unversioned patches and a v4 of one in reply), replies, pull requests and
    the demo archive of a second project."""
    mails = [p.read_bytes() for p in [*git_mails("v1"), *git_mails("v2"), *git_mails("deep")]]
    mails += [p.read_bytes() for p in [*git_mails("unthreaded"), *git_mails("single")]]
    mails += [p.read_bytes() for p in sorted((DATA / "diff" / "hg").glob("*.eml"))]
    mails += [p.read_bytes() for p in sorted((DATA / "compat" / "thread-v3").glob("*.eml"))]
    mails += [
        read(f"replies/{n}.eml")
        for n in ("acked", "reviewed", "reply-to-acked", "irt-only", "cover-tested")
    ]
    mails += [read("git/pull.eml"), read("pull/ssh.eml")]
    mails += [raw for raw, _ in iter_mbox(DEMO)]
    return mails


def test_shuffled_parallel_ingestion_equals_in_order_ingestion(frob):
    Project.objects.create(
        linkname="patchwork",
        name="Patchwork",
        listid="patchwork.lists.example.org",
        listemail="patchwork@lists.example.org",
    )
    mails = corpus()
    for raw in mails:
        mail_ingest(mail_store(raw))
    revisions_supersede_due()  # the grace period of the matches by name, over
    expected = snapshot()
    assert len(expected["patches"]) > 20 and len(expected["comments"]) > 8
    reset_ingested()

    rng = random.Random(1234)
    shuffled = mails[:]
    rng.shuffle(shuffled)
    ids = [mail_store(raw).pk for raw in shuffled]
    workers = []
    for n in range(3):
        # Every worker gets every mail in its own order: each mail is delivered three times.
        order = ids[:]
        random.Random(n).shuffle(order)
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *map(str, order)],
                cwd=ROOT,
                env=worker_env(),
                stderr=subprocess.PIPE,
            )
        )
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err.decode()[-3000:]
    assert not IncomingMail.objects.filter(status=IncomingMail.PENDING).exists()
    revisions_supersede_due()
    got = snapshot()
    assert got == expected, "\n".join(snapshot_diff(got, expected))


def backend_pids(appname: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [appname])
        return [row[0] for row in cursor.fetchall()]


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_killing_a_worker_mid_ingest_loses_nothing(frob):
    mail = mail_store(git_mails("v1")[1].read_bytes())
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=False,
    )
    appname = f"pw-kill-test-{os.getpid()}"
    try:
        # Hold the project's lock: the worker claims the mail, parses it, routes it, then waits.
        blocker.execute("SELECT id FROM projects_project WHERE id = %s FOR UPDATE", [frob.pk])
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(mail.pk)],
            cwd=ROOT,
            env=worker_env(PGAPPNAME=appname),
            stderr=subprocess.DEVNULL,
        )

        def waiting_for_the_lock() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "AND wait_event_type = 'Lock'",
                    [appname],
                )
                return cursor.fetchone()[0] > 0

        wait_until(waiting_for_the_lock)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()
    # The dead worker's backend notices its client is gone and rolls back.
    try:
        wait_until(lambda: not backend_pids(appname), timeout=10)
    except AssertionError:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                [appname],
            )
        wait_until(lambda: not backend_pids(appname))
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (IncomingMail.PENDING, 0)
    assert not Patch.objects.exists()

    # The sweep finds it (it has been pending for a while) and it is ingested exactly once.
    IncomingMail.objects.filter(pk=mail.pk).update(received=mail.received.replace(year=2020))
    assert mail_sweep() == 1  # eager tasks: queued and ingested here
    mail.refresh_from_db()
    assert mail.status == IncomingMail.PARSED
    assert Patch.objects.count() == 1
    from apps.events.models import Event

    assert Event.objects.filter(category="patch-created").count() == 1
