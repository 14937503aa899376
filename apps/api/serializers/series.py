"""REST representations of series, per API version."""

from __future__ import annotations

from typing import Any

from apps.api.serializers.patches import cover_embedded, patch_embedded
from apps.api.serializers.projects import person_embedded, project_embedded
from apps.api.support import ApiContext, format_datetime
from apps.api.versions import REVISION_LINKS, SERIES_DEPENDENCIES, WEB_LINKS
from apps.patches import links
from apps.series.models import Series
from apps.series.rangediff.services import (
    range_diff_get,
    range_diff_summary,
    summary_sentence,
)
from apps.series.selectors import SeriesListExtras


def series_to_dict(series, ctx: ApiContext, extras: SeriesListExtras) -> dict[str, Any]:
    """A series (apps.series.selectors.series_summaries) with its page's extras."""
    patches = extras.patches.get(series.id, [])
    data: dict[str, Any] = {"id": series.id, "url": ctx.api_url("series", series.id)}
    if ctx.since(WEB_LINKS):
        data["web_url"] = ctx.site_url(links.series_path(series.id))
    data.update(
        {
            "project": project_embedded(series.project, ctx),
            "name": series.name,
            "date": format_datetime(series.date),
            "submitter": person_embedded(series.submitter, ctx),
            "version": series.version,
            "total": series.total,
            "received_total": len(patches),
            "received_all": len(patches) >= series.total,
            "mbox": ctx.site_url(links.series_mbox_path(series.id)),
            "cover_letter": (
                cover_embedded(series.cover, ctx, project=series.project) if series.cover else None
            ),
            "patches": [patch_embedded(p, ctx, project=series.project) for p in patches],
        }
    )
    if ctx.since(SERIES_DEPENDENCIES):
        data["dependencies"] = [
            ctx.api_url("series", pk) for pk in extras.dependencies.get(series.id, [])
        ]
        data["dependents"] = [
            ctx.api_url("series", pk) for pk in extras.dependents.get(series.id, [])
        ]
    if ctx.since(REVISION_LINKS):
        # Additions (docs/openapi-beyond.yaml).
        data["previous_revision"] = (
            ctx.api_url("series", series.previous_revision_id)
            if series.previous_revision_id
            else None
        )
        data["next_revisions"] = [
            ctx.api_url("series", pk) for pk in extras.next_revisions.get(series.id, [])
        ]
        data["range_diff"] = (
            ctx.site_url(links.series_range_diff_path(series.project.linkname, series.id))
            if series.previous_revision_id
            else None
        )
    return data


def range_diff_event_summary(series: Series, ctx: ApiContext) -> dict | None:
    """What a series-completed webhook of a revision adds: how it differs from the previous
    revision, and which of its patches did not change (None if it rerolls nothing)."""
    if series.previous_revision_id is None:
        return None
    against = Series.objects.get(pk=series.previous_revision_id)
    row = range_diff_get(series=series, against=against)
    summary = range_diff_summary(row, series=series, against=against)
    return {
        "previous_revision": ctx.api_url("series", against.pk),
        "range_diff": ctx.site_url(
            links.series_range_diff_path(series.project.linkname, series.pk)
        ),
        "version": summary["version"],
        "previous_version": summary["previous_version"],
        "patches": summary["patches"],
        "changed": summary["changed"],
        **{status: count for status, count in summary["counts"].items() if status != "changed"},
        "unchanged_patches": [ctx.api_url("patches", pk) for pk in summary["unchanged_patch_ids"]],
        "summary": summary_sentence(summary),
    }
