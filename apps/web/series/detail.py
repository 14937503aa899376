"""The series page: cover letter, patches in order, progress and downloads; and its live
fragments, from the same context code."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from apps.events.models import Event
from apps.live.pages import NEW_PATCH_CATEGORIES, PROGRESS_CATEGORIES, LivePage, PageKind
from apps.live.publish import series_group
from apps.live.render import Viewer, viewer_request
from apps.patches.models import Patch
from apps.series.models import Series
from apps.series.rangediff.services import range_diff_sentences
from apps.web.patches.list import list_context
from apps.web.patches.rows import patch_rows_html


def series_progress_context(series: Series, received: int) -> dict:
    """What the progress line (series/_progress.html) and the cover box show."""
    return {
        "project": series.project,
        "series": series,
        "received": received,
        "complete": received >= series.total,
    }


def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_object_or_404(
        Series.objects.select_related("project", "submitter", "cover", "previous_revision"),
        pk=series_id,
    )
    project = series.project
    qs = Patch.objects.filter(series=series).order_by("number", "date", "id")
    context = list_context(request, project, qs, use_tags=project.use_tags)
    page = context["page"]
    next_revisions = list(series.next_revisions.order_by("id").only("id", "name", "version"))
    context.update(series_progress_context(series, page.total))
    context.update(
        {
            "dependencies": list(series.dependencies.order_by("id")),
            "next_revisions": next_revisions,
            "newer_revision": max(next_revisions, key=lambda s: (s.version, s.id), default=None),
            "revision_changes": range_diff_sentences([series]).get(series.pk, ""),
        }
    )
    return render(request, "series/detail.html", context)


# --- live: patches fill in (in order) as they arrive, with the progress -------------


def live_series_open(object_id: int, query, user) -> LivePage | None:
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


def live_series_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """The series page's rows, progress and cover that these events changed."""
    series = Series.objects.select_related("project", "cover").filter(pk=page.object_id).first()
    if series is None:
        return []
    new: dict[int, bool] = {}
    progress = cover = False
    for ref in refs:
        category = ref["category"]
        if ref.get("patch_id"):
            pid = ref["patch_id"]
            new[pid] = new.get(pid, False) or category in NEW_PATCH_CATEGORIES
        progress |= category in PROGRESS_CATEGORIES
        cover |= category == Event.COVER_CREATED
    for pid in refresh_patches or ():
        new.setdefault(pid, False)
    request = viewer_request(viewer, f"/series/{series.pk}/")
    members = dict(
        Patch.objects.filter(series=series, pk__in=list(new)).values_list("pk", "number")
    )
    html = patch_rows_html(request, list(members), use_tags=series.project.use_tags)
    ops: list[dict] = []
    for pid, is_new in new.items():
        if pid not in html:
            continue
        op = {"op": "replace", "id": f"patch-row-{pid}", "html": html[pid]}
        if is_new:
            number = members[pid]
            op.update(
                op="upsert",
                into="patch-list-body",
                at="sorted",
                sort_attr="data-number",
                key="" if number is None else str(number),
            )
        ops.append(op)
    if not (progress or cover or refresh_patches is not None):
        return ops
    context = series_progress_context(series, Patch.objects.filter(series=series).count())
    if progress or refresh_patches is not None:
        fragment = render_to_string("series/_progress.html", context, request=request)
        ops.append({"op": "replace", "id": "series-progress", "html": fragment})
    if cover:
        fragment = render_to_string("series/_cover.html", context, request=request)
        ops.append({"op": "replace", "id": "series-cover", "html": fragment})
    return ops


def live_series_viewer_kind(page: LivePage, user) -> tuple:
    """The series page's rows are patch-list rows (see live_list_viewer_kind); its progress
    and cover are the same for everyone."""
    return ("series", bool(user.is_authenticated), bool(getattr(user, "show_ids", False)))


LIVE_SERIES = PageKind(
    name="series",
    region="main",
    open=live_series_open,
    ops=live_series_ops,
    events=lambda page: (
        Q(series_id=page.object_id)
        | Q(patch__series_id=page.object_id)
        | Q(cover__series__id=page.object_id)
    ),
    viewer_kind=live_series_viewer_kind,
)
