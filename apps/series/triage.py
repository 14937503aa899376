"""Series-first triage: a project's series at a glance, and actions on a whole series.

A series-wide action is one ``patch_update`` per patch, so each patch records
its usual events (``patch-state-changed``, ``patch-delegated``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from apps.accounts.models import User
from apps.events.services import events_batched
from apps.patches.models import Patch, PatchTag
from apps.patches.search import series_search_q
from apps.patches.services import UNSET, patch_update
from apps.projects.models import Project, State
from apps.projects.selectors import user_is_maintainer
from apps.series.models import Series
from apps.series.rangediff.services import range_diff_sentences

SERIES_PER_PAGE = 50
# Newest first: the series list's only order (live pages insert new series on top).
SERIES_ORDER = ("-date", "-id")


@dataclass
class SeriesRow:
    """One line of the series list."""

    series: Series
    received: int = 0
    states: Counter = field(default_factory=Counter)
    tags: Counter = field(default_factory=Counter)
    checks: str = ""
    revision_changes: str = ""  # "v3: 2 of 5 patches changed since v2", once compared

    @property
    def state_list(self) -> list[tuple[str, int]]:
        return sorted(self.states.items())

    @property
    def tag_list(self) -> list[tuple[str, int]]:
        return sorted(self.tags.items())


def series_list_q(query: str) -> Q:
    """The series list's search as a condition on series (SearchError if not understood)."""
    return series_search_q(query) if query.strip() else Q()


def series_for_project(project: Project | int, query: str = "") -> QuerySet[Series]:
    """A project's series, newest first; query is the search language (SearchError if bad)."""
    qs = Series.objects.filter(series_list_q(query), project=project).select_related("submitter")
    return qs.annotate(received=Count("patches")).order_by(*SERIES_ORDER)


def series_rows_of(
    project: Project | int, series_ids, *, checks: dict[int, str] | None = None
) -> list[SeriesRow]:
    """The rows of these series (whatever the search), newest first, as the list shows them."""
    return series_rows(list(series_for_project(project).filter(pk__in=series_ids)), checks=checks)


def series_row_context(user, project: Project) -> dict:
    """What a row needs besides its SeriesRow, for this viewer (the page and live rows alike).

    The series-wide action form is for maintainers only.
    """
    can_triage = user_is_maintainer(user, project)
    return {
        "project": project,
        "can_triage": can_triage,
        "states": list(State.objects.all()) if can_triage else [],
        "maintainers": list(project.maintainers.order_by("username")) if can_triage else [],
    }


def series_rows(page: list[Series], *, checks: dict[int, str] | None = None) -> list[SeriesRow]:
    """Progress, patch states, tag summaries and revision changes for a page of series, in
    3 queries; their check summaries as given (apps.checks.selectors
    .check_state_worst_by_series)."""
    rows = {s.pk: SeriesRow(series=s, received=getattr(s, "received", 0)) for s in page}
    for sid, state, count in (
        Patch.objects.filter(series__in=rows)
        .values_list("series_id", "state__name")
        .annotate(n=Count("id"))
    ):
        rows[sid].states[state] = count
    for sid, abbrev, total in PatchTag.objects.filter(patch__series__in=rows).values_list(
        "patch__series_id", "tag__abbrev", "count"
    ):
        rows[sid].tags[abbrev] += total
    for sid, state in (checks or {}).items():
        if sid in rows:
            rows[sid].checks = state
    for sid, sentence in range_diff_sentences(page).items():
        rows[sid].revision_changes = sentence
    return list(rows.values())


def series_check_can_triage(user, series: Series) -> bool:
    return user_is_maintainer(user, series.project)


@transaction.atomic
def series_bulk_update(
    *, series: Series, actor: User, state=UNSET, delegate=UNSET, archived=UNSET
) -> int:
    """Apply state / delegate / archived to every patch of a series; returns how many changed."""
    if not series_check_can_triage(actor, series):
        raise PermissionDenied("Only the project's maintainers can triage a whole series.")
    count = 0
    # One INSERT for the events, and their listeners (live pages, webhooks) hear of them
    # together: open pages get one update for the series, not one a patch.
    with events_batched():
        for patch in Patch.objects.filter(series=series).select_related("project", "state"):
            patch_update(
                patch=patch, actor=actor, state=state, delegate=delegate, archived=archived
            )
            count += 1
    return count
