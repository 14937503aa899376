"""The series page: cover letter, patches in order, progress and downloads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.patches.models import Patch
from apps.series.models import Series
from apps.series.rangediff.services import range_diff_sentences
from apps.web.patches.list import list_context


def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_object_or_404(
        Series.objects.select_related("project", "submitter", "cover", "previous_revision"),
        pk=series_id,
    )
    project = series.project
    qs = Patch.objects.filter(series=series).order_by("number", "date", "id")
    context = list_context(request, project, qs, use_tags=project.use_tags)
    page = context["page"]
    received = page.total
    next_revisions = list(series.next_revisions.order_by("id").only("id", "name", "version"))
    context.update(
        {
            "project": project,
            "series": series,
            "received": received,
            "complete": received >= series.total,
            "dependencies": list(series.dependencies.order_by("id")),
            "next_revisions": next_revisions,
            "newer_revision": max(next_revisions, key=lambda s: (s.version, s.id), default=None),
            "revision_changes": range_diff_sentences([series]).get(series.pk, ""),
        }
    )
    return render(request, "series/detail.html", context)
