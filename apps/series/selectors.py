"""Reads about series, shaped for the APIs and pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import Q

from apps.patches.models import Patch
from apps.patches.selectors import (
    PROJECT,
    ids_in,
    light_rows,
    submitter_columns,
    with_projects,
)
from apps.series.models import Series

# What the REST representation of a series shows (apps.api.serializers.series), by column.
SERIES_SUMMARY_FIELDS = (
    "id",
    "name",
    "date",
    "version",
    "total",
    "project_id",
    "previous_revision_id",
    "submitter__id",
    "submitter__name",  # submitter_columns()
    "submitter__email",
    "cover_id",
    "cover__id",
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


def series_summaries(ids: list[int]) -> list[SimpleNamespace]:
    """Series by id, in that order, as light objects (one query).

    No model instances and no prefetch_related: building those for a page of 100
    series and their patches cost more than everything else the request does.
    """
    if not ids:
        return []
    rows = (
        Series.objects.filter(ids_in("id", ids))
        .order_by()
        .annotate(**submitter_columns())
        .values(*SERIES_SUMMARY_FIELDS, *PROJECT)
    )
    by_id = {s.id: s for s in with_projects(light_rows(rows, nullable=("cover",)))}
    return [by_id[pk] for pk in ids if pk in by_id]


def series_list_extras(
    ids: list[int], *, dependencies: bool = True, revisions: bool = True
) -> SeriesListExtras:
    """Patches (in series order), dependencies and next revisions of a page of series:
    three queries at most."""
    extras = SeriesListExtras()
    if not ids:
        return extras
    patches = defaultdict(list)
    rows = (
        Patch.objects.filter(ids_in("series_id", ids))
        .order_by("series_id", "number", "date", "id")
        .values("id", "msgid", "date", "name", "series_id")
    )
    for patch in light_rows(rows):
        patches[patch.series_id].append(patch)
    extras.patches = patches
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


def series_next_revisions(series_ids: set[int]) -> dict[int, list[int]]:
    """The ids of the next revisions of each series (by id), in one query."""
    found: dict[int, list[int]] = {}
    if not series_ids:
        return found
    rows = Series.objects.filter(ids_in("previous_revision_id", series_ids)).order_by("id")
    for previous, pk in rows.values_list("previous_revision_id", "id"):
        found.setdefault(previous, []).append(pk)
    return found
