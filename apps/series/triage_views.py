"""The series list page and its series-wide actions (thin: see apps/series/triage.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.patches.search import SearchError, search_nobody_notes
from apps.patches.services import UNSET
from apps.patches.views.list import paging_params
from apps.projects.models import Project, State, User
from apps.series.models import Series
from apps.series.triage import (
    SERIES_PER_PAGE,
    series_bulk_update,
    series_for_project,
    series_row_context,
    series_rows,
)


def series_list(request: HttpRequest, linkname: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    query = request.GET.get("q", "").strip()
    # Bad paging parameters get the nearest valid page and a note, as on the patch list.
    number, per_page, notes = paging_params(request.GET, SERIES_PER_PAGE, noun="series")
    error = ""
    try:
        paginator = Paginator(series_for_project(project, query), per_page)
        if number > paginator.num_pages:
            last = paginator.num_pages
            notes.append(f"There is no page {number}; the last is {last}: showing page {last}.")
            number = last
        page = paginator.page(number)
        rows = series_rows(list(page.object_list))
    except SearchError as exc:
        error, page, rows = str(exc), None, []
    notes += search_nobody_notes(query)
    # Rows rendered live (apps/events/live/fragments.py) get the same row context.
    context = {
        **series_row_context(request.user, project),
        "q": query,
        "error": error,
        "notes": notes,
        "page": page,
        "rows": rows,
        # The pages' links keep a page size asked for.
        "page_query": urlencode(
            {"q": query, **({"per_page": per_page} if per_page != SERIES_PER_PAGE else {})}
        ),
    }
    return render(request, "series/list.html", context)


@require_POST
def series_action(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_object_or_404(Series.objects.select_related("project"), pk=series_id)
    changes = {}
    if request.POST.get("state"):
        changes["state"] = get_object_or_404(State, slug=request.POST["state"])
    delegate = request.POST.get("delegate", "")
    if delegate == "none":
        changes["delegate"] = None
    elif delegate:
        changes["delegate"] = get_object_or_404(User, username=delegate)
    if request.POST.get("archived") in ("true", "false"):
        changes["archived"] = request.POST["archived"] == "true"
    target = request.POST.get("next") or f"/project/{series.project.linkname}/series/"
    if not target.startswith("/") or target.startswith("//"):
        target = f"/project/{series.project.linkname}/series/"
    if not changes:
        messages.error(request, "Choose a state, a delegate or an archive action.")
        return redirect(target)
    try:
        count = series_bulk_update(
            series=series,
            actor=request.user,
            state=changes.get("state", UNSET),
            delegate=changes.get("delegate", UNSET),
            archived=changes.get("archived", UNSET),
        )
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from None
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(target)
    messages.success(request, f"Updated {count} patches of '{series}'.")
    return redirect(target)
