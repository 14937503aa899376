"""REST endpoints: /series/ (list, detail)."""

from __future__ import annotations

from django.db.models import Prefetch
from ninja import NinjaAPI, Router

from apps.patches import api_filters as f
from apps.patches.search import series_search_api
from apps.projects.api_support import (
    DATED_LIST_PARAMS,
    ApiVersion,
    apply_ordering,
    date_filters,
    json_response,
    object_or_404,
    page_response,
    query_doc,
)
from apps.series.models import Series
from apps.series.selectors import series_for_list
from apps.series.serializers import series_to_dict

SERIES_ORDER = {"id": "id", "name": "name", "date": "date", "submitter": "submitter__name"}
SERIES_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("submitter", "string", "An ID or email address of a person to filter series by."),
    ("project", "string", "An ID or linkname of a project to filter series by."),
)


def register(api: NinjaAPI, v: ApiVersion) -> None:
    """Mount the /series/ endpoints of one API version."""
    router = Router(tags=["series"])
    with_dependencies = v.since("1.4")
    # Revision links are an addition of the latest version (docs/openapi-beyond.yaml).
    with_revisions = v.since("1.4")

    def series_qs():
        qs = series_for_list(dependencies=with_dependencies)
        if with_revisions:
            later = Series.objects.only("id", "previous_revision_id").order_by("id")
            qs = qs.prefetch_related(Prefetch("next_revisions", queryset=later))
        return qs

    @router.get("/", summary="List series.", openapi_extra=SERIES_FILTER_DOC)
    def series_list(request):
        ctx = v.begin(request)
        qs = series_qs()
        qs = f.filter_submitter(qs, request, ctx)
        qs = f.filter_project(qs, request, ctx)
        qs = date_filters(qs, request)
        qs = series_search_api(qs, request)
        qs = apply_ordering(qs, request, SERIES_ORDER, "id")
        return page_response(request, qs, lambda page: [series_to_dict(s, ctx) for s in page])

    @router.get("/{id}/", summary="Show a series.")
    def series_read(request, id: str):
        ctx = v.begin(request)
        series = object_or_404(series_qs(), id)
        return json_response(series_to_dict(series, ctx))

    api.add_router("/series", router)
