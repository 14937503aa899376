"""The web process gives its database connections back after every request.

Under ASGI each request runs in a thread of its own: a connection kept for reuse
(CONN_MAX_AGE > 0) stays open with its thread and is never reused, until
PostgreSQL refuses new clients. Measured on a real daphne over PostgreSQL, with a
streamed download (the series mbox reads the database while it streams).
"""

from __future__ import annotations

import os
import time

import httpx
import pytest
from django.db import connection

from tests.factories import make_patch, make_project, make_series
from tests.ops.conftest import database_url, live

pytestmark = [
    live,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): counts its server's connections",
    ),
]
APP = "pw-conn-test"


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP])
        return cursor.fetchone()[0]


def connections_after_close(deadline_seconds: float = 15.0) -> int:
    """The server's connections once it has closed what it will: a streamed response's
    connection is closed after its last byte reaches the client, so the client can look
    before the server is done. A leaked connection stays; this waits for the rest."""
    end = time.monotonic() + deadline_seconds
    while (count := server_connections()) and time.monotonic() < end:
        time.sleep(0.1)
    return count


def test_requests_and_streamed_downloads_keep_no_connection_open(daphne):
    project = make_project("conn")
    series = make_series(project, total=6)
    for n in range(6):
        make_patch(project, name=f"[{n + 1}/6] part {n + 1}", series=series, number=n + 1)
    server = daphne(DATABASE_URL=database_url() + f"?application_name={APP}")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(12):
            assert client.get(f"/series/{series.pk}/mbox/").status_code == 200
            assert client.get("/api/1.4/patches/?project=conn").status_code == 200
    assert connections_after_close() == 0


def test_a_pooled_web_process_reuses_a_bounded_set_of_connections(daphne):
    project = make_project("pool")
    series = make_series(project, total=6)
    for n in range(6):
        make_patch(project, name=f"[{n + 1}/6] part {n + 1}", series=series, number=n + 1)
    server = daphne(
        DATABASE_URL=database_url() + f"?application_name={APP}", DATABASE_POOL_SIZE="2"
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(12):
            assert client.get(f"/series/{series.pk}/mbox/").status_code == 200
            assert client.get("/api/1.4/patches/?project=pool").status_code == 200
        # Kept for the next requests, never more than the pool's size...
        assert 1 <= server_connections() <= 2
        started = server_backends()
        for _ in range(6):
            assert client.get("/api/1.4/patches/?project=pool").status_code == 200
        # ...and reused: no new server process for these requests.
        assert server_backends() == started
        # A connection the server drops is replaced, not handed to a request.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [APP],
            )
        # Dropped: its server process has gone (and said so on the socket as it went). The
        # pool looks for that goodbye (config/postgresql/base.py), without a round trip; a
        # request racing the termination itself fails as one in the middle of a query would.
        assert connections_after_close() == 0
        for _ in range(4):
            assert client.get("/api/1.4/patches/?project=pool").status_code == 200
    assert server_connections() <= 2


def server_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APP])
        return {pid for (pid,) in cursor.fetchall()}
