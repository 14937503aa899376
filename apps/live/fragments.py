"""The patch page's, series page's and series list's live fragments, rendered with the
pages' own partials.

The contexts mirror apps/patches/views/detail.py and apps/series/views.py for
the part each partial shows; a partial changed there must be changed here too.
The series list's rows share their context with the page (apps/series/triage.py).
"""

from __future__ import annotations

from django.template.loader import render_to_string

from apps.events.models import Event
from apps.live.pages import NEW_PATCH_CATEGORIES, NEW_SERIES_CATEGORIES, LivePage
from apps.live.publish import PATCH_UPDATED

TRIAGE_CATEGORIES = frozenset({Event.PATCH_STATE_CHANGED, Event.PATCH_DELEGATED, PATCH_UPDATED})
SERIES_CATEGORIES = NEW_PATCH_CATEGORIES | {
    Event.SERIES_CREATED,
    Event.SERIES_COMPLETED,
    Event.COVER_CREATED,
}
# Cover events carry no series: the series list finds it by the cover.
CARRIED_BY_COVER = frozenset({Event.COVER_CREATED, Event.COVER_COMMENT_CREATED})


def _load_patch(patch_id: int):
    from apps.patches.models import Patch

    return (
        Patch.objects.select_related(
            "project", "submitter", "delegate", "state", "series", "series__cover"
        )
        .filter(pk=patch_id)
        .first()
    )


def _related(patch) -> list:
    from apps.patches.models import Patch

    if not patch.related_id:
        return []
    return list(
        Patch.objects.filter(related_id=patch.related_id)
        .exclude(pk=patch.pk)
        .select_related("project", "state")
        .only("id", "msgid", "name", "project__linkname", "project__name", "state__name")
        .order_by("date", "id")
    )


def patch_page_ops(page: LivePage, viewer, refs: list[dict], *, refresh: bool = False):
    """Fragments of one patch's page that these events changed, for this viewer."""
    from apps.checks.selectors import checks_latest
    from apps.live.render import viewer_request
    from apps.patches.models import PatchComment
    from apps.patches.services import patch_check_can_edit
    from apps.projects.selectors import user_is_maintainer
    from apps.web.patches.detail import (
        _comment_editable,
        _triage_context,
        patch_url,
        series_nav_context,
    )

    patch = _load_patch(page.object_id)
    if patch is None:
        return []
    wanted: set[str] = {"facts", "triage"} if refresh else set()
    comment_events: list[int] = []
    for ref in refs:
        category, own = ref["category"], ref.get("patch_id") == patch.pk
        if own and category in TRIAGE_CATEGORIES:
            wanted |= {"facts", "triage"}
        elif own and category == Event.CHECK_CREATED:
            wanted.add("checks")
        elif own and category == Event.PATCH_COMMENT_CREATED:
            wanted |= {"facts", "comments"}  # a comment may carry tags (Acked-by: …)
            comment_events.append(ref["event_id"])
        if category == Event.PATCH_RELATION_CHANGED:
            wanted.add("related")
        if category in SERIES_CATEGORIES and patch.series_id:
            wanted.add("series")
    if not wanted:
        return []

    user = viewer.user
    request = viewer_request(viewer, patch_url(patch))
    base = {"patch": patch, "project": patch.project, "submission": patch, "user": user}
    ops: list[dict] = []

    def render(template: str, **context) -> str:
        return render_to_string(template, {**base, **context}, request=request)

    if "facts" in wanted:
        ops.append({"op": "replace", "id": "patch-facts", "html": render("patches/_facts.html")})
    if "triage" in wanted and patch_check_can_edit(user, patch):
        # Maintainer controls go only to those who may use them.
        context = _triage_context(request, patch)
        ops.append(
            {
                "op": "replace",
                "id": "patch-triage",
                "keep_while_editing": True,
                "html": render("patches/_triage.html", **context),
            }
        )
    if "checks" in wanted:
        checks = checks_latest(patch.checks.select_related("user"))
        ops.append(
            {
                "op": "replace",
                "id": "patch-checks",
                "html": render("patches/_checks.html", checks=checks),
            }
        )
    if "comments" in wanted:
        ids = Event.objects.filter(pk__in=comment_events).values_list("patch_comment_id", flat=True)
        comments = list(
            PatchComment.objects.filter(pk__in=[i for i in ids if i], patch=patch)
            .select_related("submitter")
            .order_by("date", "id")
        )
        is_maintainer = user_is_maintainer(user, patch.project)
        for comment in comments:
            comment.can_edit = _comment_editable(user, is_maintainer, comment, patch)
            html = render("patches/_message.html", message=comment, is_comment=True)
            ops.append(
                {
                    "op": "upsert",
                    "id": f"comment-{comment.pk}",
                    "into": "comments-list",
                    "at": "bottom",
                    "reveal": "comments",
                    "html": html,
                }
            )
        all_ids = list(patch.comments.values_list("id", flat=True))
        ops.append(
            {
                "op": "replace",
                "id": "comments-h",
                "html": render("patches/_comments_heading.html", comments=all_ids),
            }
        )
    if "related" in wanted:
        ops.append(
            {
                "op": "replace",
                "id": "patch-related",
                "html": render("patches/_related.html", related=_related(patch)),
            }
        )
    if "series" in wanted:
        ops.append(
            {
                "op": "replace",
                "id": "patch-series",
                "html": render("patches/_series_nav.html", **series_nav_context(patch)),
            }
        )
    return ops


def series_page_ops(
    page: LivePage, viewer, refs: list[dict], *, refresh_patches: list[int] | None = None
):
    """The series page: its patches fill in (in order) as they arrive, with the progress."""
    from apps.live.render import render_rows, viewer_request
    from apps.patches.models import Patch
    from apps.series.models import Series

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
        progress |= category in SERIES_CATEGORIES
        cover |= category == Event.COVER_CREATED
    for pid in refresh_patches or ():
        new.setdefault(pid, False)
    request = viewer_request(viewer, f"/series/{series.pk}/")
    members = dict(
        Patch.objects.filter(series=series, pk__in=list(new)).values_list("pk", "number")
    )
    html = render_rows(request, list(members), series.project.use_tags)
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
    context = {"series": series, "project": series.project}
    if progress or refresh_patches is not None:
        received = Patch.objects.filter(series=series).count()
        context.update(received=received, complete=received >= series.total)
        ops.append(
            {
                "op": "replace",
                "id": "series-progress",
                "html": render_to_string("series/_progress.html", context, request=request),
            }
        )
    if cover:
        ops.append(
            {
                "op": "replace",
                "id": "series-cover",
                "html": render_to_string("series/_cover.html", context, request=request),
            }
        )
    return ops


def _series_touched(project_id: int, refs: list[dict]) -> dict[int, str]:
    """Per series of the project these events concern: "new" (a row to add), "late" (to
    add only where it cannot be mistaken for news), "" (a row to update).

    Patch events are mapped to their patch's series and cover events to their cover's
    series, in one query each for the whole batch.
    """
    from apps.patches.models import Patch
    from apps.series.models import Series

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


def series_list_ops(
    page: LivePage, viewer, refs: list[dict], *, refresh_series: list[int] | None = None
):
    """Rows of a project's series list to insert or swap for these events, for this viewer,
    and the rows a resuming page shows (by series id: archiving is not an event)."""
    from django.template.loader import get_template

    from apps.live.render import row_op, viewer_request
    from apps.projects.models import Project
    from apps.series.models import Series
    from apps.series.triage import series_row_context, series_rows_of

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
    rows = {row.series.pk: row for row in series_rows_of(project, list(touched))}
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
        op["html"] = template.render({**context, "row": rows[sid]}, request)
        ops.append(op)
    return ops
