"""REST endpoints: /patches/{patch_id}/checks/ (list, create, detail)."""

from __future__ import annotations

from typing import Any

from ninja import Router

from apps.api import filters as f
from apps.api.serializers.checks import check_to_dict
from apps.api.support import (
    DATED_LIST_PARAMS,
    RequestData,
    apply_ordering,
    date_filters,
    filter_values,
    forbidden,
    invalid,
    json_response,
    object_or_404,
    page_response,
    parse_body,
    query_doc,
    require_user,
)
from apps.api.versions import begin
from apps.checks.models import Check
from apps.checks.services import CHECK_STATES, check_check_can_create, check_create
from apps.patches.models import Patch

CHECK_ORDER = {
    "id": "id",
    "date": "date",
    "state": "state",
    "context": "context",
    "user": "user__username",
}
CHECK_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("user", "string", "An ID or username of a user to filter checks by."),
    ("state", "string", "A check state (pending, success, warning, fail) to filter by."),
    ("context", "string", "A check context to filter checks by."),
)
CHECK_FIELDS = ("state", "target_url", "context", "description")


def check_fields(data: RequestData) -> dict[str, Any]:
    """The check_create() arguments of a body; the model validates the values further."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name in CHECK_FIELDS:
        if name not in data:
            continue
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = ["Not a valid string."]
        else:
            fields[name] = value
    state = fields.get("state")
    if state is None:
        errors.setdefault("state", ["This field is required."])
    elif state not in CHECK_STATES:
        errors["state"] = [f'"{state}" is not a valid choice.']
    if "context" in fields and not fields["context"]:
        errors["context"] = ["This field may not be blank."]
    if errors:
        raise invalid(errors)
    return fields


router = Router(tags=["checks"])


@router.get("/{patch_id}/checks/", summary="List checks.", openapi_extra=CHECK_FILTER_DOC)
def checks_list(request, patch_id: str):
    ctx = begin(request)
    patch = object_or_404(Patch.objects.only("id"), patch_id)
    qs = Check.objects.filter(patch=patch).select_related("user")
    qs = f.filter_user(qs, request, ctx, "user", "user")
    states = filter_values(request, "state", ctx)
    if states:
        unknown = [s for s in states if s not in CHECK_STATES]
        if unknown:
            raise invalid(
                {"state": [f"Select a valid choice. {unknown[0]} is not one of the choices."]}
            )
        qs = qs.filter(state__in=states)
    contexts = filter_values(request, "context", ctx)
    if contexts:
        qs = qs.filter(context__in=contexts)
    qs = date_filters(qs, request)
    qs = apply_ordering(qs, request, CHECK_ORDER, "id")
    return page_response(request, qs, lambda page: [check_to_dict(c, ctx) for c in page])


@router.post("/{patch_id}/checks/", summary="Create a check.")
def checks_create(request, patch_id: str):
    ctx = begin(request)
    patch = object_or_404(
        Patch.objects.select_related("project").defer("content", "diff", "headers"), patch_id
    )
    user = require_user(ctx)
    if not check_check_can_create(user, patch):
        raise forbidden()
    check = check_create(patch=patch, user=user, **check_fields(parse_body(request)))
    return json_response(check_to_dict(check, ctx), status=201)


@router.get("/{patch_id}/checks/{check_id}/", summary="Show a check.")
def checks_read(request, patch_id: str, check_id: str):
    ctx = begin(request)
    patch = object_or_404(Patch.objects.only("id"), patch_id)
    check = object_or_404(Check.objects.filter(patch=patch).select_related("user"), check_id)
    return json_response(check_to_dict(check, ctx))
