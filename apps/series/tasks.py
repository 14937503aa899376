"""Celery tasks of the series app; queue.py is how the services reach them."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.series.models import Series
from apps.series.rangediff.services import range_diff_get
from apps.series.revisions import revisions_supersede_due


@shared_task(name="series.supersede_due", ignore_result=True)
def series_supersede_due() -> int:
    """Supersede the revisions matched by name or change-id whose grace period ended."""
    return revisions_supersede_due(now=timezone.now())


@shared_task(name="series.range_diff", ignore_result=True)
def series_range_diff(series_id: int) -> None:
    """Compare a completed revision with its previous one, once (the pages read the result)."""
    series = Series.objects.select_related("project").filter(pk=series_id).first()
    previous = None if series is None else series.previous_revision
    if series is None or previous is None:
        return
    range_diff_get(series=series, against=previous)


def range_diff_enqueue(series_id: int) -> None:
    """Queue series_range_diff (queue.py's range diff, connected in SeriesConfig.ready)."""
    series_range_diff.delay(series_id)
