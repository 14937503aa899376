"""A pooled connection is checked without a round trip (config/postgresql/base.py)."""

from __future__ import annotations

import os
import time

import psycopg
import pytest

from config.postgresql.base import server_hung_up

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL)",
)
URL = os.environ.get("DATABASE_URL", "")
# The server is what matters, not the database: DATABASE_URL's may not exist (the test
# run works in its own copy of it).
SERVER = {"dbname": "postgres", "autocommit": True}


def _statements(admin: psycopg.Connection, pid: int):
    # pg_stat_activity's query_start moves with each statement the backend receives.
    row = admin.execute("SELECT query_start FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None
    return row[0]


def test_an_idle_connection_passes_without_a_statement_and_a_dropped_one_fails():
    with (
        psycopg.connect(URL, **SERVER) as admin,
        psycopg.connect(URL, **SERVER) as pooled,
    ):
        pooled.execute("SELECT 1")
        pid = pooled.info.backend_pid
        before = _statements(admin, pid)
        assert server_hung_up(pooled) is False
        assert _statements(admin, pid) == before  # nothing was sent to the server
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while not server_hung_up(pooled):
            assert time.monotonic() < deadline, "a terminated connection still looks usable"
            time.sleep(0.05)
