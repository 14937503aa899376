"""REST endpoints: /bundles/ (read; create, update and delete from 1.2).

Private bundles are invisible (404) to everyone but their owner; a visible
bundle that is not yours is read-only (403 on writes).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router

from apps.api import filters as f
from apps.api.serializers.patches import bundle_to_dict
from apps.api.support import (
    LIST_PARAMS,
    ApiContext,
    ApiError,
    RequestData,
    apply_ordering,
    apply_search,
    forbidden,
    invalid,
    json_response,
    object_or_404,
    page_response,
    parse_body,
    parse_bool,
    query_doc,
    require_user,
)
from apps.api.versions import begin
from apps.patches.models import Bundle, Patch
from apps.patches.selectors import bundles_visible_to, bundles_with_patches
from apps.patches.services import (
    bundle_check_can_edit,
    bundle_create,
    bundle_delete,
    bundle_update,
)
from apps.projects.params import parse_int

BUNDLE_ORDER = {"id": "id", "name": "name", "owner": "owner__username"}
BUNDLE_FILTER_DOC = query_doc(
    *LIST_PARAMS,
    ("project", "string", "An ID or linkname of a project to filter bundles by."),
    ("owner", "string", "An ID or username of a user to filter bundles by."),
    ("public", "string", "Show only public (true) or private (false) bundles."),
)


def _visible(ctx: ApiContext):
    return bundles_with_patches(bundles_visible_to(ctx.user))


def _begin(request, id: str) -> ApiContext:
    """begin(), except that bad credentials on a bundle that is not public answer 404.

    Refused credentials would otherwise tell a private bundle (403) from a missing
    one (404); the id of a public bundle is no secret, so it keeps the 403.
    """
    try:
        return begin(request)
    except ApiError:
        object_or_404(Bundle.objects.filter(public=True), id)
        raise


def _bundle_patches(data: RequestData, errors: dict, project_id: int | None) -> list[Patch]:
    raw = [v for v in data.getlist("patches") if v != ""]
    ids = [parse_int(v.get("id") if isinstance(v, dict) else v) for v in raw]
    if any(pk is None for pk in ids):
        errors["patches"] = ["Incorrect type. Expected a list of patch IDs."]
        return []
    if not ids:
        errors["patches"] = ["Bundles cannot be empty."]
        return []
    found = Patch.objects.in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        errors["patches"] = [f'Invalid pk "{missing[0]}" - object does not exist.']
        return []
    patches = [found[pk] for pk in dict.fromkeys(ids)]
    projects = {p.project_id for p in patches} | ({project_id} if project_id else set())
    if len(projects) > 1:
        errors["patches"] = ["Bundle patches must belong to the same project."]
        return []
    return patches


def bundle_fields(data: RequestData, *, partial: bool, bundle: Bundle | None) -> dict[str, Any]:
    """The bundle_create()/bundle_update() arguments a body asks for; 400 on invalid values."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    if "name" in data:
        name = data.get("name")
        if not isinstance(name, str):
            errors["name"] = ["Not a valid string."]
        else:
            fields["name"] = name
    elif not partial:
        errors["name"] = ["This field is required."]
    if "public" in data:
        public = parse_bool(data.get("public"))
        if public is None:
            errors["public"] = ["Must be a valid boolean."]
        else:
            fields["public"] = public
    if "patches" in data:
        patches = _bundle_patches(data, errors, bundle.project_id if bundle else None)
        if "patches" not in errors:
            fields["patches"] = patches
    elif bundle is None:
        errors["patches"] = ["This field is required."]
    if errors:
        raise invalid(errors)
    return fields


# Before BUNDLE_WRITES a version mounts read_router (reads only), then router.
read_router = Router(tags=["bundles"])
router = Router(tags=["bundles"])


@router.get("/", summary="List bundles.", openapi_extra=BUNDLE_FILTER_DOC)
@read_router.get("/", summary="List bundles.", openapi_extra=BUNDLE_FILTER_DOC)
def bundles_list(request):
    ctx = begin(request)
    qs = f.filter_project(_visible(ctx), request, ctx)
    qs = f.filter_user(qs, request, ctx, "owner", "owner")
    qs = f.filter_bool(qs, request, ctx, "public", "public")
    qs = apply_search(qs, request, ["name"])
    qs = apply_ordering(qs, request, BUNDLE_ORDER, "id")
    return page_response(request, qs, lambda page: [bundle_to_dict(b, ctx) for b in page])


@router.post("/", summary="Create a bundle.")
def bundles_create(request):
    ctx = begin(request)
    user = require_user(ctx)
    fields = bundle_fields(parse_body(request), partial=False, bundle=None)
    bundle = bundle_create(owner=user, **fields)
    return json_response(bundle_to_dict(object_or_404(_visible(ctx), bundle.pk), ctx), 201)


@router.get("/{id}/", summary="Show a bundle.")
@read_router.get("/{id}/", summary="Show a bundle.")
def bundles_read(request, id: str):
    ctx = _begin(request, id)
    return json_response(bundle_to_dict(object_or_404(_visible(ctx), id), ctx))


@router.api_operation(["PATCH", "PUT"], "/{id}/", summary="Update a bundle.")
def bundles_update(request, id: str):
    ctx = _begin(request, id)
    bundle = object_or_404(_visible(ctx), id)
    if not bundle_check_can_edit(require_user(ctx), bundle):
        raise forbidden()
    fields = bundle_fields(parse_body(request), partial=request.method == "PATCH", bundle=bundle)
    if fields:
        bundle_update(bundle=bundle, **fields)
    return json_response(bundle_to_dict(object_or_404(_visible(ctx), bundle.pk), ctx))


@router.delete("/{id}/", summary="Delete a bundle.")
def bundles_delete(request, id: str):
    ctx = _begin(request, id)
    bundle = object_or_404(_visible(ctx), id)
    if not bundle_check_can_edit(require_user(ctx), bundle):
        raise forbidden()
    bundle_delete(bundle=bundle)
    return HttpResponse(status=204)
