"""REST endpoints: /covers/ (list, detail)."""

from __future__ import annotations

from ninja import Router

from apps.api import filters as f
from apps.api.serializers.patches import cover_to_dict
from apps.api.support import (
    DATED_LIST_PARAMS,
    apply_ordering,
    apply_search,
    date_filters,
    json_response,
    object_or_404,
    page_response,
    query_doc,
)
from apps.api.versions import PATCH_HASH_AND_MSGID, begin
from apps.patches.selectors import covers_for_detail, covers_for_list

COVER_ORDER = {"id": "id", "name": "name", "date": "date", "submitter": "submitter__name"}
COVER_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("project", "string", "An ID or linkname of a project to filter cover letters by."),
    ("series", "string", "An ID of a series to filter cover letters by."),
    ("submitter", "string", "An ID or email address of a person to filter cover letters by."),
    ("msgid", "string", "The cover message-id, without angle brackets."),
)


router = Router(tags=["covers"])


@router.get("/", summary="List cover letters.", openapi_extra=COVER_FILTER_DOC)
def covers_list(request):
    ctx = begin(request)
    qs = covers_for_list()
    qs = f.filter_project(qs, request, ctx)
    qs = f.filter_ids(qs, request, ctx, "series", "series__id")
    qs = f.filter_submitter(qs, request, ctx)
    if ctx.since(PATCH_HASH_AND_MSGID):
        qs = f.filter_msgid(qs, request, ctx)
    qs = date_filters(qs, request)
    qs = apply_search(qs, request, ["name"])
    qs = apply_ordering(qs, request, COVER_ORDER, "id")
    return page_response(request, qs, lambda page: [cover_to_dict(c, ctx) for c in page])


@router.get("/{id}/", summary="Show a cover letter.")
def covers_read(request, id: str):
    ctx = begin(request)
    cover = object_or_404(covers_for_detail(), id)
    return json_response(cover_to_dict(cover, ctx, detail=True))
