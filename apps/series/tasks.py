"""Celery tasks of the series app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="series.supersede_due", ignore_result=True)
def series_supersede_due() -> int:
    """Supersede the revisions matched by name or change-id whose grace period ended."""
    from apps.series.revisions import revisions_supersede_due

    return revisions_supersede_due(now=timezone.now())
