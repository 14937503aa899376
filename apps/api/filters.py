"""Query-string filters of the submission lists (patches, covers, series, bundles, …).

Filters repeat with OR semantics from API 1.1 (1.0 used the last value). A
value naming nothing (an unknown project, state or submitter) matches nothing,
so the list is empty; a malformed value (``series=abc``, ``since=yesterday``)
is a 400 with the field's message.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest

from apps.api.support import (
    ApiContext,
    bool_filter,
    filter_values,
    id_or_name_q,
    int_filter,
    invalid,
)
from apps.patches.links import url_msgid
from apps.patches.models import Patch
from apps.patches.search import SearchError, patch_search, series_search_q
from apps.projects.models import Person, Project, State
from apps.projects.params import is_id, parse_id


def filter_project(qs: QuerySet, request: HttpRequest, ctx: ApiContext, field="project"):
    values = filter_values(request, "project", ctx)
    if not values:
        return qs
    # Resolved to ids first: a join on the name would keep the list's indexes unused.
    ids = Project.objects.filter(id_or_name_q(values, "id", "linkname")).values_list(
        "id", flat=True
    )
    return qs.filter(**{f"{field}_id__in": list(ids)})


def filter_submitter(qs: QuerySet, request: HttpRequest, ctx: ApiContext, field="submitter"):
    """By person id or e-mail address (any case: matched on the lower-case unique index)."""
    values = filter_values(request, "submitter", ctx)
    if not values:
        return qs
    ids = [parse_id(v) for v in values if is_id(v)]
    emails = [v.lower() for v in values if not is_id(v)]
    people = Person.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)
    return qs.filter(Q(**{f"{field}_id__in": ids}) | Q(**{f"{field}_id__in": people.values("id")}))


def filter_user(qs: QuerySet, request: HttpRequest, ctx: ApiContext, param: str, field: str):
    """A user filter (delegate, owner, user): by id or username."""
    values = filter_values(request, param, ctx)
    if not values:
        return qs
    return qs.filter(id_or_name_q(values, f"{field}_id", f"{field}__username"))


def filter_state(qs: QuerySet, request: HttpRequest, ctx: ApiContext):
    values = filter_values(request, "state", ctx)
    if not values:
        return qs
    ids = State.objects.filter(id_or_name_q(values, "id", "slug", "name")).values_list(
        "id", flat=True
    )
    return qs.filter(state_id__in=list(ids))


def filter_ids(qs: QuerySet, request: HttpRequest, ctx: ApiContext, param: str, field: str):
    """An integer-id filter (series, patch, cover)."""
    values = int_filter(request, param, ctx)
    if not values:
        return qs
    return qs.filter(**{f"{field}__in": values})


def filter_bool(qs: QuerySet, request: HttpRequest, ctx: ApiContext, param: str, field: str):
    value = bool_filter(request, param, ctx)
    if value is None:
        return qs
    return qs.filter(**{field: value})


def filter_msgid(qs: QuerySet, request: HttpRequest, ctx: ApiContext):
    values = filter_values(request, "msgid", ctx)
    if not values:
        return qs
    return qs.filter(msgid__in=[f"<{url_msgid(v)}>" for v in values])


def filter_hash(qs: QuerySet, request: HttpRequest, ctx: ApiContext):
    values = filter_values(request, "hash", ctx)
    if not values:
        return qs
    # Hashes are stored as lower-case hex; compare that way so the index is used.
    return qs.filter(hash__in=[v.lower() for v in values])


def series_search_api(qs: QuerySet, request) -> QuerySet:
    """The REST series list's ``q``: 400 with the reason when the query is not understood."""
    query = request.GET.get("q", "")
    if not query.strip():
        return qs
    try:
        return qs.filter(series_search_q(query))
    except SearchError as exc:
        raise invalid({"q": [str(exc)]}) from None


def patch_search_api(qs: QuerySet[Patch], request) -> QuerySet[Patch]:
    """The REST ``q`` parameter: 400 with the reason when the query is not understood."""
    query = request.GET.get("q", "")
    if not query.strip():
        return qs
    try:
        return patch_search(qs, query)
    except SearchError as exc:
        raise invalid({"q": [str(exc)]}) from None
