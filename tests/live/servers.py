"""The real topology for live-page tests: daphne processes and a celery worker.

They share this test run's PostgreSQL database and Redis (channel layer and
broker), exactly as production processes do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from tests import servers
from tests.servers import BIN, ROOT


def process_env(**overrides: str) -> dict[str, str]:
    """A process of this topology: Redis as layer and broker, tasks through a worker."""
    return servers.process_env(
        **{"REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "0", **overrides}
    )


class Daphne:
    """A daphne process on a loopback port the OS picked; restartable on the same port.

    This process keeps the listening socket, so while daphne restarts, new
    connections wait in the backlog instead of being refused.
    """

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "daphne"),
                "--fd",
                str(self.sock.fileno()),
                "-v",
                "0",
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=process_env(),
            pass_fds=[self.sock.fileno()],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            with urllib.request.urlopen(f"{self.url}/about/", timeout=60) as response:
                response.read()
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"daphne did not start: {exc}\n{self.log()}") from exc

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None

    def kill(self) -> None:
        """Drop every connection at once, as a crash or a restart does."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=15)
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.stop()
        self.sock.close()
        self._log.close()


class CeleryWorker:
    """One celery worker process (solo pool) consuming this run's broker."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"live-tests-{os.getpid()}@localhost",
            ],
            cwd=ROOT,
            env=process_env(LOG_LEVEL="INFO"),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while " ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker did not start:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


def parsemail(*mails: bytes) -> None:
    """Pipe mails into `manage.py parsemail`, one process each and all at once, as an MTA
    does; each stores its mail and queues it for the worker."""
    runs = []
    for raw in mails:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "parsemail"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=process_env(),
        )
        runs.append(process)
        process.stdin.write(raw)
        process.stdin.close()
    for process in runs:
        try:
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.stderr.read().decode()
        process.stdout.close()
        process.stderr.close()
        if process.returncode != 0:
            raise RuntimeError(f"parsemail failed ({process.returncode}): {stderr}")
