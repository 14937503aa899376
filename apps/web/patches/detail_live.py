"""The patch page's live fragments: its partials, rendered with the context functions of
the page itself (detail.py), for the parts these events changed.

Kept beside detail.py, not in it, so that the page's own code stays one screenful.
"""

from __future__ import annotations

from django.db.models import Q
from django.template.loader import render_to_string

from apps.events.models import Event
from apps.live.pages import NEW_PATCH_CATEGORIES, PROGRESS_CATEGORIES, LivePage, PageKind
from apps.live.publish import PATCH_UPDATED, patch_group, series_group
from apps.live.render import Viewer, csrf_context, viewer_request
from apps.patches.models import Patch, PatchComment
from apps.patches.services import patch_check_can_edit
from apps.projects.selectors import user_is_maintainer
from apps.web.patches.detail import (
    _comment_editable,
    _triage_context,
    facts_context,
    patch_checks,
    patch_related,
    patch_url,
    series_nav_context,
)

TRIAGE_CATEGORIES = frozenset({Event.PATCH_STATE_CHANGED, Event.PATCH_DELEGATED, PATCH_UPDATED})


def live_patch_open(object_id: int, query, user) -> LivePage | None:
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


def live_patch_events(page: LivePage) -> Q:
    q = Q(patch_id=page.object_id)
    if page.relation_id:
        q |= Q(previous_relation_id=page.relation_id)
        q |= Q(current_relation_id=page.relation_id)
    if page.series_id:
        q |= Q(series_id=page.series_id)
        q |= Q(patch__series_id=page.series_id, category__in=NEW_PATCH_CATEGORIES)
    return q


def _wanted(patch: Patch, refs: list[dict], refresh: bool) -> tuple[set[str], list[int]]:
    """The parts of the page these events changed, and the comment events among them."""
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
        if category in PROGRESS_CATEGORIES and patch.series_id:
            wanted.add("series")
    return wanted, comment_events


def _comment_ops(render, user, patch: Patch, comment_events: list[int]) -> list[dict]:
    ids = Event.objects.filter(pk__in=comment_events).values_list("patch_comment_id", flat=True)
    comments = list(
        PatchComment.objects.filter(pk__in=[i for i in ids if i], patch=patch)
        .select_related("submitter")
        .order_by("date", "id")
    )
    is_maintainer = user_is_maintainer(user, patch.project)
    ops = []
    for comment in comments:
        comment.can_edit = _comment_editable(user, is_maintainer, comment, patch)
        ops.append(
            {
                "op": "upsert",
                "id": f"comment-{comment.pk}",
                "into": "comments-list",
                "at": "bottom",
                "reveal": "comments",
                "html": render("patches/_message.html", message=comment, is_comment=True),
            }
        )
    all_ids = list(patch.comments.values_list("id", flat=True))
    html = render("patches/_comments_heading.html", comments=all_ids)
    ops.append({"op": "replace", "id": "comments-h", "html": html})
    return ops


def live_patch_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """Fragments of one patch's page that these events changed, for this viewer."""
    patch = (
        Patch.objects.select_related(
            "project", "submitter", "delegate", "state", "series", "series__cover"
        )
        .filter(pk=page.object_id)
        .first()
    )
    if patch is None:
        return []
    wanted, comment_events = _wanted(patch, refs, refresh=refresh_patches is not None)
    if not wanted:
        return []
    user = viewer.user
    request = viewer_request(viewer, patch_url(patch))
    base = {
        "patch": patch,
        "project": patch.project,
        "submission": patch,
        "user": user,
        **csrf_context(),
    }

    def render(template: str, **context) -> str:
        return render_to_string(template, {**base, **context}, request=request)

    ops: list[dict] = []
    if "facts" in wanted:
        ops.append(
            {
                "op": "replace",
                "id": "patch-facts",
                "html": render("patches/_facts.html", **facts_context(patch)),
            }
        )
    if "triage" in wanted and patch_check_can_edit(user, patch):
        # Maintainer controls go only to those who may use them.
        html = render("patches/_triage.html", **_triage_context(request, patch))
        ops.append(
            {"op": "replace", "id": "patch-triage", "keep_while_editing": True, "html": html}
        )
    if "checks" in wanted:
        html = render("patches/_checks.html", checks=patch_checks(patch))
        ops.append({"op": "replace", "id": "patch-checks", "html": html})
    if "comments" in wanted:
        ops += _comment_ops(render, user, patch, comment_events)
    if "related" in wanted:
        html = render("patches/_related.html", related=patch_related(patch))
        ops.append({"op": "replace", "id": "patch-related", "html": html})
    if "series" in wanted:
        html = render("patches/_series_nav.html", **series_nav_context(patch))
        ops.append({"op": "replace", "id": "patch-series", "html": html})
    return ops


LIVE_PATCH = PageKind(
    name="patch",
    region="main",
    open=live_patch_open,
    ops=live_patch_ops,
    events=live_patch_events,
)
