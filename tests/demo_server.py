"""The embedded default as a newcomer runs it: its own SQLite file, no Redis, the demo.

For tests of what `./dev serve` offers (live updates from another process, every
page's console): the server and the commands run in subprocesses with an
environment stripped of this run's services (CI runs the suite on PostgreSQL and
Redis), on a database of their own under a temporary PATCHWORK_VAR_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.servers import ROOT, Daphne, manage

# Settings a newcomer has not made; DJANGO_/PYTEST_ belong to this test run.
NOT_A_NEWCOMERS = ("DATABASE_", "REDIS_", "PATCHWORK_", "CELERY_", "DJANGO_", "PYTEST_", "LOG_")


def embedded_env(var: Path, **overrides: str) -> dict[str, str]:
    """The environment of the embedded default, with its files under `var`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_A_NEWCOMERS)}
    env.update(DEBUG="1", PATCHWORK_VAR_DIR=str(var), PYTHONPATH=str(ROOT))
    env.update(overrides)
    return env


def demo_server(var: Path) -> tuple[Daphne, dict[str, str]]:
    """A migrated database with the demo, served by daphne (the caller stops it)."""
    env = embedded_env(var, LOG_LEVEL="WARNING")
    for args in (("migrate", "-v", "0"), ("loaddemo", "--if-empty")):
        done = manage(env, *args)
        assert done.returncode == 0, done.stderr.decode()
    return Daphne(env, var / "daphne.log"), env
