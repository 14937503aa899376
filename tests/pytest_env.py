"""Loaded with -p before Django starts: embedded defaults unless the environment says otherwise."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("TEST_FAST_PASSWORD_HASHER", "1")
