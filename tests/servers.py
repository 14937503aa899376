"""Real Patchwork processes for end-to-end tests: daphne over the test database.

Servers run in subprocesses, so tests that use them commit their data: mark them
`live` (transaction=True; after each flush the root conftest puts the default
states and tags back). On SQLite the test database is a file (see the
root conftest), so subprocesses can open it too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

live = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    """DATABASE_URL of the test database, for subprocesses."""
    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if db["ENGINE"].endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the SQLite test database is in memory: subprocesses cannot share it")
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{name}"


def process_env(**overrides: str) -> dict[str, str]:
    """The environment of a Patchwork process over the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        DEBUG="1",
        # The tests' own key, so sessions made in the test log a browser in on the server.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env


def free_socket() -> socket.socket:
    """A listening loopback socket on a port the OS picked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class Daphne:
    """daphne serving config.asgi on a loopback socket bound here and handed over."""

    def __init__(self, env: dict[str, str], log_path: Path):
        sock = free_socket()
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "wb") as log:
            try:
                self.process = subprocess.Popen(
                    [str(BIN / "daphne"), "--fd", str(sock.fileno()), "config.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    pass_fds=[sock.fileno()],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            finally:
                # Only daphne holds the socket now: if it dies, connections are refused.
                sock.close()
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=10):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"daphne did not start: {exc}\n{self.log()}") from exc
                time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it does not go within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def manage(env: dict[str, str], *args: str, stdin: bytes | None = None, timeout: float = 300):
    """Run manage.py in its own process (as an MTA or a shell would); the finished process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )
