"""Review given to a whole series: trailers in replies to its cover letter.

Counted for every patch of the series at ingestion (apps/mail/tagging.py); here
they are gathered for downloads, so ``git am`` of any patch of the series picks
them up (per-project ``Project.cover_trailers``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from apps.patches.models import CoverComment, Patch


def cover_trailers_by_patch(
    patch_ids: Iterable[int], extract: Callable[[str], list[str]]
) -> dict[int, list[str]]:
    """Trailer lines given in reply to the cover letter of each patch's series, oldest first."""
    rows = list(
        Patch.objects.filter(
            pk__in=list(patch_ids),
            project__cover_trailers=True,
            series__cover__isnull=False,
        ).values_list("pk", "series_id")
    )
    if not rows:
        return {}
    by_series: dict[int, list[str]] = defaultdict(list)
    comments = (
        CoverComment.objects.filter(cover__series__id__in={sid for _, sid in rows})
        .order_by("date", "id")
        .values_list("cover__series__id", "content")
    )
    for series_id, content in comments:
        by_series[series_id].extend(extract(content))
    return {pk: by_series[sid] for pk, sid in rows if by_series.get(sid)}
