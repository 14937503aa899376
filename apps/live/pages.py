"""Which live page a websocket serves: who may open it, its groups, the events it shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import QueryDict

from apps.events.models import Event
from apps.live.publish import PATCH_UPDATED, patch_group, project_group, series_group

# Rows a page may ask to have refreshed on resume (a page shows at most this many).
MAX_REFRESH_ROWS = 1000

# Events that change what a patch-list row shows (or add a row).
ROW_CATEGORIES = frozenset(
    {
        Event.PATCH_CREATED,
        Event.PATCH_COMPLETED,
        Event.PATCH_STATE_CHANGED,
        Event.PATCH_DELEGATED,
        Event.CHECK_CREATED,
        Event.PATCH_COMMENT_CREATED,  # tag counts (Acked-by: …) come with comments
    }
)
NEW_PATCH_CATEGORIES = frozenset({Event.PATCH_CREATED, Event.PATCH_COMPLETED})
# Events that change what a series-list row shows (or add a row): progress, cover
# (the series' name), states, delegates, checks and tags of its patches.
SERIES_ROW_CATEGORIES = ROW_CATEGORIES | {
    Event.SERIES_CREATED,
    Event.SERIES_COMPLETED,
    Event.COVER_CREATED,
    Event.COVER_COMMENT_CREATED,  # tags given on the cover count for the series
}
NEW_SERIES_CATEGORIES = frozenset({Event.SERIES_CREATED})

KINDS = ("list", "patch", "series", "serieslist")


@dataclass
class LivePage:
    """One kind of page, opened by one viewer, with what it needs to decide about events."""

    kind: str
    project_id: int
    object_id: int
    groups: list[str]
    # DOM ids of the regions to fetch again when too many events were missed.
    regions: list[str]
    query: QueryDict = field(default_factory=QueryDict)
    series_id: int | None = None
    relation_id: int | None = None
    # Lists: the filters read from the page's URL and the project's tag columns setting,
    # resolved once per connection (the series list: its search as a Q, None if it
    # is not understood and the page shows no series).
    filters: Any = None
    use_tags: bool = True

    @property
    def render_key(self) -> tuple:
        """Pages with the same key get the same fragments for the same viewer."""
        params = tuple(sorted((key, tuple(values)) for key, values in self.query.lists()))
        return (self.kind, self.object_id, params)

    def event_filter(self) -> Q:
        """The events of the durable log this page shows (for catch-up)."""
        if self.kind == "list":
            return Q(project_id=self.project_id, category__in=ROW_CATEGORIES)
        if self.kind == "serieslist":
            return Q(project_id=self.project_id, category__in=SERIES_ROW_CATEGORIES)
        if self.kind == "patch":
            q = Q(patch_id=self.object_id)
            if self.relation_id:
                q |= Q(previous_relation_id=self.relation_id)
                q |= Q(current_relation_id=self.relation_id)
            if self.series_id:
                q |= Q(series_id=self.series_id)
                q |= Q(patch__series_id=self.series_id, category__in=NEW_PATCH_CATEGORIES)
            return q
        # series
        return (
            Q(series_id=self.object_id)
            | Q(patch__series_id=self.object_id)
            | Q(cover__series__id=self.object_id)
        )

    def wants(self, message: dict) -> bool:
        """Whether a broadcast (already routed to one of our groups) concerns this page."""
        category = message.get("category")
        if self.kind == "list":
            return category in ROW_CATEGORIES or category == PATCH_UPDATED
        if self.kind == "serieslist":
            return category in SERIES_ROW_CATEGORIES or category == PATCH_UPDATED
        return True


def live_page_open(*, kind: str, object_id: int, query_string: str, user) -> LivePage | None:
    """The page a viewer asks to follow, or None if it does not exist or is not theirs to see."""
    from apps.patches.models import Patch
    from apps.projects.models import Project
    from apps.series.models import Series

    query = QueryDict(query_string or "")
    if kind == "list":
        from apps.projects.models import State
        from apps.web.patches.filters import parse_filters

        project = Project.objects.filter(pk=object_id).only("id", "use_tags").first()
        if project is None:
            return None
        return LivePage(
            filters=parse_filters(query, list(State.objects.order_by("ordering"))),
            use_tags=project.use_tags,
            kind="list",
            project_id=project.pk,
            object_id=project.pk,
            groups=[project_group(project.pk)],
            regions=["patch-list-results"],
            query=query,
        )
    if kind == "serieslist":
        from apps.patches.search import SearchError
        from apps.series.triage import series_list_q

        project = Project.objects.filter(pk=object_id).only("id").first()
        if project is None:
            return None
        try:
            search = series_list_q(query.get("q", ""))
        except SearchError:
            search = None
        return LivePage(
            filters=search,
            kind="serieslist",
            project_id=project.pk,
            object_id=project.pk,
            groups=[project_group(project.pk)],
            regions=["series-list-results"],
            query=query,
        )
    if kind == "patch":
        patch = (
            Patch.objects.filter(pk=object_id).only("id", "project_id", "series_id", "related_id")
        ).first()
        if patch is None:
            return None
        groups = [patch_group(patch.pk)]
        if patch.series_id:
            groups.append(series_group(patch.series_id))
        return LivePage(
            kind="patch",
            project_id=patch.project_id,
            object_id=patch.pk,
            groups=groups,
            regions=["main"],
            series_id=patch.series_id,
            relation_id=patch.related_id,
        )
    if kind == "series":
        series = Series.objects.filter(pk=object_id).only("id", "project_id").first()
        if series is None:
            return None
        return LivePage(
            kind="series",
            project_id=series.project_id,
            object_id=series.pk,
            groups=[series_group(series.pk)],
            regions=["main"],
            series_id=series.pk,
        )
    return None
