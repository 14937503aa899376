"""The production path: parsemail stores, Redis carries the task, a celery worker ingests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from tests.mail.concurrency_env import worker_env
from tests.mails import git_mails

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("REDIS_URL")
        ),
        reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL) for a real worker",
    ),
    pytest.mark.django_db(transaction=True),
]


def wait_until(predicate, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def parsemail(env, raw: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "parsemail", "--skip-checks"],
        cwd=ROOT,
        env=env,
        input=raw,
        capture_output=True,
        timeout=120,
    )


def test_parsemail_queues_and_a_worker_ingests(frob):
    env = worker_env(CELERY_TASK_ALWAYS_EAGER="0", REDIS_URL=os.environ["REDIS_URL"])
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("celery")  # leftovers of other runs
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        done = parsemail(env, git_mails("v1")[1].read_bytes())
        assert done.returncode == 0, done.stderr.decode()
        mail = IncomingMail.objects.get()
        assert done.stdout.decode().strip() in (
            f"queued: mail {mail.pk}",
            f"parsed: {mail.outcome}",
        )
        wait_until(lambda: IncomingMail.objects.get().status == IncomingMail.PARSED)
        assert Patch.objects.count() == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_broker_down_at_intake_delays_but_does_not_lose_the_mail(frob):
    env = worker_env(CELERY_TASK_ALWAYS_EAGER="0", REDIS_URL="redis://127.0.0.1:9/1")
    done = parsemail(env, git_mails("v1")[1].read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert IncomingMail.objects.get().status == IncomingMail.PENDING
    # Once the broker is back, the sweep queues it (eager here) and it is ingested.
    from apps.mail.tasks import mail_sweep

    IncomingMail.objects.update(received=IncomingMail.objects.get().received.replace(year=2020))
    assert mail_sweep() == 1
    assert IncomingMail.objects.get().status == IncomingMail.PARSED


def _other_backends() -> set[int]:
    """PostgreSQL backends connected to the test database, this test's own excepted."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _prefork_worker(env, log) -> subprocess.Popen:
    return subprocess.Popen(
        [CELERY, "-A", "config", "worker", "--pool=prefork", "--concurrency=1"]
        + ["--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _ingest_via_worker(env, raw: bytes, count: int) -> None:
    done = parsemail(env, raw)
    assert done.returncode == 0, done.stderr.decode()
    wait_until(lambda: IncomingMail.objects.filter(status=IncomingMail.PARSED).count() == count)


def test_a_worker_keeps_its_connection_from_task_to_task(frob, tmp_path):
    """Celery's Django fixup closed the connection after every task: each mail paid for a
    new PostgreSQL connection. The worker process now ingests mail after mail on one."""
    env = worker_env(CELERY_TASK_ALWAYS_EAGER="0", REDIS_URL=os.environ["REDIS_URL"])
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("celery")
    mails = git_mails("v1")  # the cover letter, then three patches
    with open(tmp_path / "worker.log", "wb") as log:
        worker = _prefork_worker(env, log)
        try:
            _ingest_via_worker(env, mails[1].read_bytes(), 1)
            # parsemail has exited: what is left is the worker process's connection.
            first = _other_backends()
            assert len(first) == 1
            _ingest_via_worker(env, mails[2].read_bytes(), 2)
            _ingest_via_worker(env, mails[3].read_bytes(), 3)
            assert _other_backends() == first
            assert Patch.objects.count() == 3

            # A connection the server dropped is replaced before the next task uses it:
            # the mail is ingested at the first try, not after a retry.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [first.pop()])
            wait_until(lambda: not _other_backends())
            _ingest_via_worker(env, mails[0].read_bytes(), 4)
            assert len(_other_backends()) == 1
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    text = (tmp_path / "worker.log").read_text()
    assert "mail.ingest" in text and "succeeded" in text
    assert "retry" not in text.lower(), text
