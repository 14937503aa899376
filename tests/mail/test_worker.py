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
