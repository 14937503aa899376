"""REST endpoints: /series/ (list, detail)."""

from __future__ import annotations

from ninja import Router

from apps.api import filters as f
from apps.api.serializers.series import series_to_dict
from apps.api.support import (
    DATED_LIST_PARAMS,
    ApiContext,
    PageSource,
    apply_ordering,
    date_filters,
    json_response,
    object_or_404,
    page_response,
    query_doc,
)
from apps.api.versions import REVISION_LINKS, SERIES_DEPENDENCIES, begin
from apps.series.models import Series
from apps.series.selectors import series_list_extras, series_summaries

SERIES_ORDER = {"id": "id", "name": "name", "date": "date", "submitter": "submitter__name"}
SERIES_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("submitter", "string", "An ID or email address of a person to filter series by."),
    ("project", "string", "An ID or linkname of a project to filter series by."),
)


def render_series(page: list, ctx: ApiContext) -> list[dict]:
    ids = [s.id for s in page]
    extras = series_list_extras(
        ids,
        dependencies=ctx.since(SERIES_DEPENDENCIES),
        # Revision links are an addition of the latest version (docs/openapi-beyond.yaml).
        revisions=ctx.since(REVISION_LINKS),
    )
    return [series_to_dict(s, ctx, extras) for s in page]


router = Router(tags=["series"])


@router.get("/", summary="List series.", openapi_extra=SERIES_FILTER_DOC)
def series_list(request):
    ctx = begin(request)
    qs = Series.objects.all()
    qs = f.filter_submitter(qs, request, ctx)
    qs = f.filter_project(qs, request, ctx)
    qs = date_filters(qs, request)
    qs = f.series_search_api(qs, request)
    qs = apply_ordering(qs, request, SERIES_ORDER, "id")
    pages = PageSource(qs, series_summaries)
    return page_response(request, pages, lambda page: render_series(page, ctx))


@router.get("/{id}/", summary="Show a series.")
def series_read(request, id: str):
    ctx = begin(request)
    series = object_or_404(Series.objects.all(), id)
    return json_response(render_series(series_summaries([series.pk]), ctx)[0])
