"""A real celery worker and beat make /healthz healthy by their heartbeats; stopping one shows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from config import heartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture
def real_topology(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis (set REDIS_URL) to run a worker and beat")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = heartbeat._client()
    _clear(client)
    yield client
    _clear(client)


def _clear(client):
    keys = list(client.scan_iter(match=heartbeat.PREFIX + "*"))
    if keys:
        client.delete(*keys)


def start(args: list[str], settings, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "1",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "HEARTBEAT_INTERVAL_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            [CELERY, "-A", "config", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(client, predicate, what: str, logs: list[Path], timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/healthz").json()
        if predicate(body["checks"]):
            return body
        time.sleep(0.2)
    output = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
    pytest.fail(f"timed out waiting for {what}; last answer {body}\n{output}")


def test_worker_and_beat_heartbeats_drive_healthz(client, settings, real_topology, tmp_path):
    name = f"ops-{uuid.uuid4().hex[:8]}@localhost"
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    # Its own queue: this worker must not take tasks meant for anyone else.
    worker = start(
        ["worker", "--pool=solo", "-n", name, "-Q", f"q-{name}", "--without-mingle"],
        settings,
        worker_log,
    )
    beat = None
    try:
        beat = start(
            ["beat", "-s", str(tmp_path / "beat-schedule"), "--pidfile="], settings, beat_log
        )
        logs = [worker_log, beat_log]
        body = wait_for(
            client,
            lambda c: c["workers"]["ok"] and c["beat"]["ok"],
            "worker and beat heartbeats",
            logs,
        )
        assert name in body["checks"]["workers"]["alive"]
        assert client.get("/healthz").status_code == 200

        stop(beat)
        body = wait_for(client, lambda c: not c["beat"]["ok"], "beat to be reported down", logs)
        assert body["status"] == "fail"
        assert body["checks"]["workers"]["ok"] is True
        assert client.get("/healthz").status_code == 503

        stop(worker)
        body = wait_for(
            client, lambda c: not c["workers"]["ok"], "worker to be reported down", logs
        )
        assert name not in body["checks"]["workers"]["alive"]
    finally:
        stop(worker)
        if beat is not None:
            stop(beat)
