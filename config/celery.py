"""The Celery application; tasks are autodiscovered from each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery

from config import heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("patchwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
heartbeat.install(app)
app.autodiscover_tasks()
