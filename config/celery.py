"""The Celery application; tasks are autodiscovered from each app's tasks.py.

Worker processes keep their database connection from one task to the next.
Celery's Django fixup closes every connection before and after each task (unless
its DB_REUSE_MAX is set), so each mail a worker ingested opened a new PostgreSQL
connection: a new server process, authentication, session setup — more than the
mail's own queries cost. Here the fixup's closing is left to every DB_REUSE_MAX-th
task, and between tasks a worker drops only what Django drops at the end of a
request: a connection that failed, or one older than DATABASE_WORKER_CONN_MAX_AGE
seconds (so the server's per-session memory is released now and then); one the
server dropped is found by a health check before the next task uses it.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

from config import heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Celery's own closing of connections (counted in prerun and postrun: 2× this many tasks).
DB_REUSE_MAX = 10_000

app = Celery("patchwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The fixup reads this old-style name whatever the namespace.
app.conf.update(CELERY_DB_REUSE_MAX=DB_REUSE_MAX)
heartbeat.install(app)
app.autodiscover_tasks()


@worker_process_init.connect
def _keep_connections(**kwargs) -> None:
    from django.conf import settings
    from django.db import connections

    for conn in connections.all():
        # A pooled connection goes back to its pool after each task instead (Django
        # refuses persistent connections with a pool).
        if not conn.settings_dict.get("OPTIONS", {}).get("pool"):
            conn.settings_dict["CONN_MAX_AGE"] = settings.DATABASE_WORKER_CONN_MAX_AGE
            # One round trip before a task's first query: a connection the server dropped
            # (restart, idle timeout) is replaced instead of failing the task.
            conn.settings_dict["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
@task_postrun.connect
def _close_unusable_connections(sender=None, **kwargs) -> None:
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # an eager task runs inside its caller's request or transaction
    from django.db import close_old_connections

    close_old_connections()
