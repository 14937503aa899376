"""What the series services leave to a worker. tasks.py, the one module of the app that
knows Celery, plugs the queue in (SeriesConfig.ready): the services never import tasks,
which import them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db import transaction

_range_diff: Callable[[int], object] | None = None


def queue_connect(*, range_diff: Callable[[int], object]) -> None:
    """Set how a range diff is queued (tasks.py: the task's delay)."""
    global _range_diff
    _range_diff = range_diff


def range_diff_on_commit(series_id: int) -> None:
    """Compare the series with its previous revision in a worker, once the current
    transaction commits (at once outside one)."""
    if _range_diff is None:
        raise RuntimeError("the series queue is not connected (SeriesConfig.ready)")
    transaction.on_commit(partial(_range_diff, series_id))
