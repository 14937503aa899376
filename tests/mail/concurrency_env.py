"""Environment for subprocesses (workers, manage.py) that must see the test's PostgreSQL database."""

from __future__ import annotations

import os

from django.db import connection


def worker_env(**extra) -> dict:
    db = connection.settings_dict
    env = {**os.environ, "DEBUG": "1", "CELERY_TASK_ALWAYS_EAGER": "1", **extra}
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    return env
