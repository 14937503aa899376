"""Data safety of the schema: migrations reverse cleanly and move populated databases forward.

Generic over whatever migrations exist. Runs on PostgreSQL (the production
database) in a scratch database of its own, through tests/security/migration_steps.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="migrations are tested on PostgreSQL, the production database (SQLite rebuilds "
        "tables on every schema change: minutes on this suite's budget)",
    ),
]


@pytest.fixture
def scratch(db):
    """A fresh database on the test server; yields a function running one step in it."""
    settings = connection.settings_dict
    name = f"pw_migrations_{uuid.uuid4().hex[:8]}"
    server = dict(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
        password=settings.get("PASSWORD") or None,
    )  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    url = f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}/{name}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)

    def step(name: str):
        done = subprocess.run(
            [sys.executable, "-m", "tests.security.migration_steps", name],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    try:
        yield step
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_migration_reverses_and_reapplies_on_a_populated_database(scratch):
    scratch("latest")
    scratch("populate-current")
    assert scratch("zero") == []  # every table of ours is gone
    scratch("latest")
    # The schema works again, with the default states the data migration installs.
    assert scratch("check-current") == {"states": 1, "patches": 1}


def test_forward_migrations_keep_rows_written_by_the_previous_schema(scratch):
    scratch("latest")
    stepped_back = scratch("previous")
    assert stepped_back, "no app has a non-initial latest migration: nothing to test"
    scratch("populate-old")
    scratch("latest")
    assert scratch("check-old") == {
        "patch": ["old", "new", "body"],
        "raw": "raw mail",
        "events": 1,
        "delivery": ["succeeded", "https://h.example.org/", 0],
    }
