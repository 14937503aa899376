"""Reads about series, shaped for the APIs and pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.patches.models import Patch
from apps.series.models import Series


def series_patches_in_order() -> QuerySet[Patch]:
    """A series' patches in series order, without their big text fields."""
    return (
        Patch.objects.select_related("project")
        .defer("content", "diff", "headers")
        .order_by("number", "date", "id")
    )


def series_for_list(*, dependencies: bool = True) -> QuerySet[Series]:
    """Series with project, submitter, cover, patches (and dependencies) in a few queries."""
    qs = Series.objects.select_related("project", "submitter", "cover").prefetch_related(
        Prefetch("patches", queryset=series_patches_in_order())
    )
    if dependencies:
        qs = qs.prefetch_related(
            Prefetch("dependencies", queryset=Series.objects.only("id")),
            Prefetch("dependents", queryset=Series.objects.only("id")),
        )
    return qs


def series_get(series_id: int, *, dependencies: bool = True) -> Series | None:
    return series_for_list(dependencies=dependencies).filter(pk=series_id).first()


def series_next_revisions(series_ids: set[int]) -> dict[int, list[int]]:
    """The ids of the next revisions of each series (by id), in one query."""
    found: dict[int, list[int]] = {}
    if not series_ids:
        return found
    rows = Series.objects.filter(previous_revision_id__in=series_ids).order_by("id")
    for previous, pk in rows.values_list("previous_revision_id", "id"):
        found.setdefault(previous, []).append(pk)
    return found


def series_newer_revision(series_id: int) -> Series | None:
    """The highest version among the next revisions of a series (one query), if any."""
    return (
        Series.objects.filter(previous_revision_id=series_id)
        .only("id", "name", "version")
        .order_by("-version", "-id")
        .first()
    )
