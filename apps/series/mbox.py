"""A series as mbox text: its patches in series order (apps/patches/mbox.py does each)."""

from __future__ import annotations

from collections.abc import Iterator

from apps.patches.mbox import patches_mbox_chunks, slug
from apps.series.models import Series


def series_filename(series: Series) -> str:
    return slug(series.name or f"series-{series.pk}") + ".patch"


def series_patch_ids(series: Series) -> list[int]:
    return list(series.patches.order_by("number", "date", "id").values_list("id", flat=True))


def series_mbox_chunks(series: Series) -> Iterator[str]:
    """A series' patches in series order, streamed."""
    return patches_mbox_chunks(series_patch_ids(series))


def series_to_mbox(series: Series) -> str:
    return "".join(series_mbox_chunks(series))
