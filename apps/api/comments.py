"""REST endpoints: comments on patches and covers (list; detail and ``addressed`` from 1.3)."""

from __future__ import annotations

from ninja import Router

from apps.api.serializers.patches import comment_to_dict
from apps.api.support import (
    LIST_PARAMS,
    ApiContext,
    apply_ordering,
    apply_search,
    forbidden,
    invalid,
    json_response,
    not_found,
    object_or_404,
    page_response,
    parse_body,
    parse_bool,
    query_doc,
    require_user,
)
from apps.api.versions import begin
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.patches.selectors import cover_comments, patch_comments
from apps.patches.services import comment_check_can_edit, comment_set_addressed
from apps.projects.params import parse_int

COMMENT_ORDER = {"id": "id", "date": "date"}


def _comment_list(request, ctx: ApiContext, qs, project):
    qs = apply_search(qs, request, ["content"])
    qs = apply_ordering(qs, request, COMMENT_ORDER, "date")
    return page_response(
        request, qs, lambda page: [comment_to_dict(c, ctx, project=project) for c in page]
    )


def _comment_or_404(qs, parent_id: str, comment_id: str, parent_field: str):
    parent_pk = parse_int(parent_id)
    if parent_pk is None:
        raise not_found()
    return object_or_404(qs.filter(**{parent_field: parent_pk}), comment_id)


def _addressed_update(request, ctx: ApiContext, comment, project):
    user = require_user(ctx)
    if not comment_check_can_edit(user, comment):
        raise forbidden()
    data = parse_body(request)
    if "addressed" in data:
        raw = data.get("addressed")
        value = None if raw in (None, "", "null") else parse_bool(raw)
        if raw not in (None, "", "null") and value is None:
            raise invalid({"addressed": ["Must be a valid boolean."]})
        comment_set_addressed(comment=comment, addressed=value)
    return json_response(comment_to_dict(comment, ctx, project=project))


PATCH_COMMENTS = PatchComment.objects.select_related("submitter", "patch__project")
COVER_COMMENTS = CoverComment.objects.select_related("submitter", "cover__project")

# Mounted at /patches and /covers; the *_detail routers from COMMENT_DETAIL on.
patches = Router(tags=["comments"])
covers = Router(tags=["comments"])
patches_detail = Router(tags=["comments"])
covers_detail = Router(tags=["comments"])


@patches.get(
    "/{id}/comments/", summary="List patch comments.", openapi_extra=query_doc(*LIST_PARAMS)
)
def patch_comments_list(request, id: str):
    ctx = begin(request)
    patch = object_or_404(
        Patch.objects.select_related("project").defer("content", "diff", "headers"), id
    )
    return _comment_list(request, ctx, patch_comments(patch), patch.project)


@covers.get(
    "/{id}/comments/",
    summary="List cover letter comments.",
    openapi_extra=query_doc(*LIST_PARAMS),
)
def cover_comments_list(request, id: str):
    ctx = begin(request)
    cover = object_or_404(Cover.objects.select_related("project").defer("content", "headers"), id)
    return _comment_list(request, ctx, cover_comments(cover), cover.project)


@patches_detail.get("/{patch_id}/comments/{comment_id}/", summary="Show a patch comment.")
def patch_comments_read(request, patch_id: str, comment_id: str):
    ctx = begin(request)
    comment = _comment_or_404(PATCH_COMMENTS, patch_id, comment_id, "patch_id")
    return json_response(comment_to_dict(comment, ctx, project=comment.patch.project))


@patches_detail.patch(
    "/{patch_id}/comments/{comment_id}/", summary="Mark a patch comment addressed."
)
def patch_comments_partial_update(request, patch_id: str, comment_id: str):
    ctx = begin(request)
    comment = _comment_or_404(PATCH_COMMENTS, patch_id, comment_id, "patch_id")
    return _addressed_update(request, ctx, comment, comment.patch.project)


@covers_detail.get("/{cover_id}/comments/{comment_id}/", summary="Show a cover comment.")
def cover_comments_read(request, cover_id: str, comment_id: str):
    ctx = begin(request)
    comment = _comment_or_404(COVER_COMMENTS, cover_id, comment_id, "cover_id")
    return json_response(comment_to_dict(comment, ctx, project=comment.cover.project))


@covers_detail.patch(
    "/{cover_id}/comments/{comment_id}/", summary="Mark a cover comment addressed."
)
def cover_comments_partial_update(request, cover_id: str, comment_id: str):
    ctx = begin(request)
    comment = _comment_or_404(COVER_COMMENTS, cover_id, comment_id, "cover_id")
    return _addressed_update(request, ctx, comment, comment.cover.project)
