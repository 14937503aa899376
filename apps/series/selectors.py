"""Reads about series, shaped for the APIs and pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from apps.patches.models import Patch
from apps.patches.selectors import ids_in
from apps.series.models import Series
from apps.series.sql import series_patch_rows, series_summary_rows

# What the REST representation of a series shows (apps.api.serializers.series).
SERIES_SUMMARY_ONLY = (
    "id",
    "name",
    "date",
    "version",
    "total",
    "project",
    "previous_revision_id",
    "submitter__name",
    "submitter__email",
    "cover__msgid",
    "cover__date",
    "cover__name",
)


@dataclass
class SeriesListExtras:
    """Per-series lists a page of series shows, loaded in bulk (ids in id order)."""

    patches: dict[int, list] = field(default_factory=dict)
    dependencies: dict[int, list[int]] = field(default_factory=dict)
    dependents: dict[int, list[int]] = field(default_factory=dict)
    next_revisions: dict[int, list[int]] = field(default_factory=dict)


def series_summaries(ids: list[int], *, fast: bool = True) -> list[Series] | list[Any]:
    """Series by id, in that order, with what the REST series shows (one query): light
    rows (apps/series/sql.py, why there), or model instances with `fast=False`."""
    if not ids:
        return []
    if fast:
        return series_summary_rows(ids)
    found = (
        Series.objects.filter(ids_in("id", ids))
        .order_by()
        .select_related("project", "submitter", "cover")
        .only(*SERIES_SUMMARY_ONLY)
    )
    by_id = {s.id: s for s in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def series_list_extras(
    ids: list[int], *, dependencies: bool = True, revisions: bool = True
) -> SeriesListExtras:
    """Patches (in series order), dependencies and next revisions of a page of series:
    three queries at most."""
    extras = SeriesListExtras()
    if not ids:
        return extras
    extras.patches = series_patches(ids)
    if dependencies:
        links = Series.dependencies.through.objects.filter(
            Q(ids_in("from_series_id", ids)) | Q(ids_in("to_series_id", ids))
        ).order_by("from_series_id", "to_series_id")
        wanted = set(ids)
        for needs, needed in links.values_list("from_series_id", "to_series_id"):
            if needs in wanted:
                extras.dependencies.setdefault(needs, []).append(needed)
            if needed in wanted:
                extras.dependents.setdefault(needed, []).append(needs)
        for found in extras.dependents.values():
            found.sort()
    if revisions:
        extras.next_revisions = series_next_revisions(set(ids))
    return extras


def series_patches(ids: list[int], *, fast: bool = True) -> dict[int, list[Patch]]:
    """The patches of each series (by id), in series order, with what the REST series shows
    of them (one query). `fast` reads them as light rows (apps/series/sql.py: about 10% of
    the REST series list's CPU); otherwise as model instances."""
    qs = Patch.objects.filter(ids_in("series_id", ids)).order_by(
        "series_id", "number", "date", "id"
    )
    found: Iterable[Any] = (
        series_patch_rows(qs) if fast else qs.only("id", "msgid", "date", "name", "series_id")
    )
    patches: dict[int, list[Patch]] = defaultdict(list)
    for patch in found:
        patches[patch.series_id].append(patch)
    return patches


def series_next_revisions(series_ids: set[int]) -> dict[int, list[int]]:
    """The ids of the next revisions of each series (by id), in one query."""
    found: dict[int, list[int]] = {}
    if not series_ids:
        return found
    rows = Series.objects.filter(ids_in("previous_revision_id", series_ids)).order_by("id")
    for previous, pk in rows.values_list("previous_revision_id", "id"):
        found.setdefault(previous, []).append(pk)
    return found
