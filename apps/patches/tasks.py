"""Celery tasks of the patches app."""

from __future__ import annotations

from celery import shared_task

from apps.patches.notifications import notifications_send


@shared_task(name="patches.notifications_send", ignore_result=True)
def send_notifications() -> int:
    """Mail the digests of settled patch-state changes; returns how many were sent."""
    return len(notifications_send().sent)
