"""A real daphne server over the test database, and XML-RPC clients talking to it.

The server runs in a subprocess, so test data must be committed: tests using it
are marked django_db(transaction=True, serialized_rollback=True) (the rollback
brings back the default states and tags the migrations installed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).with_name("daphne")

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Login throttling counts failures in the cache (shared with the server on Redis)."""
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """On SQLite, put the test database in a file the server subprocess can open."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("xmlrpc-db") / "test.sqlite3"
        )


def _database_url() -> str:
    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if db["ENGINE"].endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip(
                "the SQLite test database is in memory (another test area created it first); "
                "run tests/xmlrpc alone or with DATABASE_URL to use a real server"
            )
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{name}"


def server_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.xmlrpc.server_settings",
        DATABASE_URL=_database_url(),
        DEBUG="1",
        SECRET_KEY="xmlrpc-tests",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


class LiveServer:
    """A daphne process serving config.asgi on a loopback port the OS picked."""

    def __init__(self, env: dict[str, str], log_path: Path):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        try:
            self.process = subprocess.Popen(
                [str(DAPHNE), "--fd", str(sock.fileno()), "-v", "0", "config.asgi:application"],
                cwd=ROOT,
                env=env,
                pass_fds=[sock.fileno()],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        finally:
            # Only daphne holds the socket now: if it dies, connections are refused.
            sock.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        try:
            with urllib.request.urlopen(f"{self.url}/xmlrpc/", timeout=60) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # it answers; the tests will tell what is wrong
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"daphne did not start: {exc}\n{self.log()}") from exc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, tmp_path_factory):
    """One daphne server for the whole XML-RPC test session."""
    server = LiveServer(server_env(), tmp_path_factory.mktemp("daphne") / "daphne.log")
    try:
        yield server
    finally:
        server.stop()


def proxy(url: str, username: str | None = None, password: str = "password"):
    if username:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{username}:{password}@{rest}"
    return xmlrpc.client.ServerProxy(f"{url}/xmlrpc/", allow_none=True)


@pytest.fixture
def rpc(daphne_server):
    """An anonymous XML-RPC client."""
    return proxy(daphne_server.url)


@pytest.fixture
def rpc_as(daphne_server):
    """rpc_as(user) -> an XML-RPC client sending that user's Basic credentials."""
    return lambda user, password="password": proxy(daphne_server.url, user.username, password)
