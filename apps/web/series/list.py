"""The series list page, its live rows and its series-wide actions (thin: see
apps/series/triage.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.checks.selectors import check_state_worst_by_series
from apps.events.models import Event
from apps.live.pages import (
    NEW_SERIES_CATEGORIES,
    SERIES_ROW_CATEGORIES,
    LivePage,
    PageKind,
)
from apps.live.publish import PATCH_UPDATED, project_group
from apps.live.render import Viewer, csrf_context, row_op, viewer_request
from apps.patches.models import Patch
from apps.patches.search import SearchError, search_nobody_notes
from apps.patches.services import UNSET
from apps.projects.models import Project, State
from apps.projects.selectors import user_is_maintainer
from apps.series.models import Series
from apps.series.triage import (
    SERIES_PER_PAGE,
    series_bulk_update,
    series_for_project,
    series_list_q,
    series_row_context,
    series_rows,
    series_rows_of,
)
from apps.web.patches.list import paging_params

# Cover events carry no series: the series list finds it by the cover.
CARRIED_BY_COVER = frozenset({Event.COVER_CREATED, Event.COVER_COMMENT_CREATED})


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
        shown = list(page.object_list)
        rows = series_rows(shown, checks=check_state_worst_by_series(s.pk for s in shown))
    except SearchError as exc:
        error, page, rows = str(exc), None, []
    notes += search_nobody_notes(query)
    # Rows rendered live (live_series_list_ops) get the same row context.
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
    changes: dict = {}
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
    if not request.user.is_authenticated:  # no maintainer: what series_bulk_update refuses
        raise PermissionDenied("Only the project's maintainers can triage a whole series.")
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


# --- live: the rows events change, rendered with the page's row context --------------


def live_series_list_open(object_id: int, query: QueryDict, user) -> LivePage | None:
    """A project's series list, with the search of its URL (None as filters: a search
    the page could not run, so it shows no series)."""
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


def _series_touched(project_id: int, refs: list[dict]) -> dict[int, str]:
    """Per series of the project these events concern: "new" (a row to add), "late" (to
    add only where it cannot be mistaken for news), "" (a row to update).

    Patch events are mapped to their patch's series and cover events to their cover's
    series, in one query each for the whole batch.
    """
    touched: dict[int, str] = {}
    patch_ids: set[int] = set()
    cover_events: list[int] = []
    for ref in refs:
        sid, category = ref.get("series_id"), ref["category"]
        if category in NEW_SERIES_CATEGORIES and sid:
            if touched.get(sid) != "new":
                touched[sid] = "late" if ref.get("late") else "new"
            continue
        if sid:
            touched.setdefault(sid, "")
        if ref.get("patch_id"):
            patch_ids.add(ref["patch_id"])
        elif not sid and ref.get("event_id") and category in CARRIED_BY_COVER:
            cover_events.append(ref["event_id"])
    if patch_ids:
        for sid in Patch.objects.filter(
            pk__in=patch_ids, project_id=project_id, series__isnull=False
        ).values_list("series_id", flat=True):
            touched.setdefault(sid, "")
    if cover_events:
        covers = Event.objects.filter(pk__in=cover_events).values("cover_id")
        for sid in Series.objects.filter(project_id=project_id, cover__in=covers).values_list(
            "pk", flat=True
        ):
            touched.setdefault(sid, "")
    return touched


def live_series_list_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_series: list[int] | None = None
) -> list[dict]:
    """Rows of a project's series list to insert or swap for these events, for this viewer,
    and the rows a resuming page shows (its ids are series ids: archiving is not an event)."""
    if page.filters is None:  # a search the page could not run: it shows no series
        return []
    touched = _series_touched(page.project_id, refs)
    for sid in refresh_series or ():
        touched.setdefault(sid, "")
    if not touched:
        return []
    project = Project.objects.filter(pk=page.project_id).first()
    if project is None:
        return []
    if page.filters:
        matching = set(
            Series.objects.filter(page.filters, pk__in=list(touched)).values_list("pk", flat=True)
        )
    else:
        matching = set(touched)
    checks = check_state_worst_by_series(touched)
    rows = {row.series.pk: row for row in series_rows_of(project, list(touched), checks=checks)}
    if not rows:
        return []
    request = viewer_request(viewer, f"/project/{project.linkname}/series/")
    request.META["QUERY_STRING"] = page.query.urlencode()
    context = series_row_context(viewer.user, project)
    template = get_template("series/_row.html")
    # Only the default order exists; its first page shows the newest series on top.
    in_view = page.query.get("page", "1") in ("", "1")
    ops = []
    for sid, is_new in touched.items():
        if sid not in rows:
            continue
        op = row_op(f"series-row-{sid}", "series-list-body", is_new, sid in matching, in_view)
        if op is None:
            continue
        if context["can_triage"]:
            # A maintainer choosing a series-wide action keeps their choice.
            op["keep_while_editing"] = True
        op["html"] = template.render({**context, **csrf_context(), "row": rows[sid]}, request)
        ops.append(op)
    return ops


def live_series_list_viewer_kind(page: LivePage, user) -> tuple:
    """Maintainers' rows carry the series-wide action form (its CSRF token is put in per
    socket), everyone else's rows are the same."""
    project = Project(pk=page.project_id)
    return ("serieslist", user_is_maintainer(user, project))


LIVE_SERIES_LIST = PageKind(
    name="serieslist",
    region="series-list-results",
    open=live_series_list_open,
    ops=live_series_list_ops,
    events=lambda page: Q(project_id=page.project_id, category__in=SERIES_ROW_CATEGORIES),
    wants=lambda page, message: (
        message.get("category") in SERIES_ROW_CATEGORIES or message.get("category") == PATCH_UPDATED
    ),
    params=("q", "page"),
    viewer_kind=live_series_list_viewer_kind,
)
