"""REST endpoints: /patches/ (list, detail, update)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from ninja import Router

from apps.accounts.models import User
from apps.api import filters as f
from apps.api.serializers.patches import patch_to_dict
from apps.api.support import (
    DATED_LIST_PARAMS,
    ApiContext,
    ApiError,
    PageSource,
    RequestData,
    apply_ordering,
    date_filters,
    forbidden,
    invalid,
    json_response,
    object_or_404,
    page_response,
    parse_body,
    parse_bool,
    parse_int,
    query_doc,
    require_user,
)
from apps.api.versions import PATCH_HASH_AND_MSGID, PATCH_RELATED, REVISION_LINKS, begin
from apps.checks.selectors import check_states
from apps.patches.models import Patch
from apps.patches.selectors import (
    patch_list_extras,
    patch_summaries,
    patches_for_detail,
)
from apps.patches.services import patch_check_can_edit, patch_update
from apps.projects.models import State
from apps.projects.selectors import state_lookup, user_is_maintainer
from apps.series.selectors import series_next_revisions

PATCH_ORDER = {
    "id": "id",
    "name": "name",
    "project": "project__name",
    "date": "date",
    "state": "state__ordering",
    "archived": "archived",
    "submitter": "submitter__name",
}
PATCH_FILTER_DOC = query_doc(
    *DATED_LIST_PARAMS,
    ("project", "string", "An ID or linkname of a project to filter patches by."),
    ("series", "integer", "An ID of a series to filter patches by."),
    ("submitter", "string", "An ID or email address of a person to filter patches by."),
    ("delegate", "string", "An ID or username of a user to filter patches by."),
    ("state", "string", "A slug representation of a state to filter patches by."),
    ("archived", "string", "Show only archived (true) or non-archived (false) patches."),
    ("hash", "string", "The patch hash as a case-insensitive hexadecimal string."),
    ("msgid", "string", "The patch message-id, without angle brackets."),
)
MAX_FIELD_LENGTH = 255


def patches_filtered(request, ctx: ApiContext):
    """The patch list's queryset with every filter, search and ordering of the request."""
    qs: QuerySet[Patch] = Patch.objects.all()
    qs = f.filter_project(qs, request, ctx)
    qs = f.filter_ids(qs, request, ctx, "series", "series_id")
    qs = f.filter_submitter(qs, request, ctx)
    qs = f.filter_user(qs, request, ctx, "delegate", "delegate")
    qs = f.filter_state(qs, request, ctx)
    qs = f.filter_bool(qs, request, ctx, "archived", "archived")
    if ctx.since(PATCH_HASH_AND_MSGID):
        qs = f.filter_hash(qs, request, ctx)
        qs = f.filter_msgid(qs, request, ctx)
    qs = date_filters(qs, request)
    qs = f.patch_search_api(qs, request)
    return apply_ordering(qs, request, PATCH_ORDER, "id")


def render_patches(page: list, ctx: ApiContext, *, detail: bool = False) -> list[dict]:
    extras = patch_list_extras(
        page, related=ctx.since(PATCH_RELATED), checks=check_states(p.pk for p in page)
    )
    rendered = [patch_to_dict(p, ctx, extras, detail=detail) for p in page]
    if ctx.since(REVISION_LINKS):
        # An addition of the latest version (docs/openapi-beyond.yaml): one query a page.
        later = series_next_revisions({p.series_id for p in page if p.series_id})
        for patch, data in zip(page, rendered, strict=True):
            data["next_revisions"] = [
                ctx.api_url("series", pk) for pk in later.get(patch.series_id, [])
            ]
    return rendered


def patch_detail_dict(patch: Patch, ctx: ApiContext) -> dict:
    return render_patches([patch], ctx, detail=True)[0]


# --- writes ----------------------------------------------------------------------------


def _text_value(value: Any, name: str, errors: dict) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = ["Not a valid string."]
        return None
    if len(value) > MAX_FIELD_LENGTH:
        errors[name] = [f"Ensure this field has no more than {MAX_FIELD_LENGTH} characters."]
        return None
    return value.strip() or None


def _delegate_value(value: Any, errors: dict) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, dict):  # a delegate object as the API shows it
        value = value.get("id")
    pk = parse_int(value)
    if pk is not None:
        user = User.objects.filter(pk=pk, is_active=True).first()
    elif isinstance(value, str):
        user = (
            User.objects.filter(username__iexact=value.strip(), is_active=True).first()
            or User.objects.filter(email__iexact=value.strip(), is_active=True).first()
        )
    else:
        errors["delegate"] = [
            f"Incorrect type. Expected pk value, received {type(value).__name__}."
        ]
        return None
    if user is None:
        errors["delegate"] = [f'Invalid pk "{value}" - object does not exist.']
    return user


def _related_value(data: RequestData, errors: dict) -> list[Patch]:
    raw = [v for v in data.getlist("related") if v != ""]
    parsed = [parse_int(v) for v in raw]
    ids = [pk for pk in parsed if pk is not None]
    if len(ids) != len(parsed):
        errors["related"] = ["Incorrect type. Expected a list of patch IDs."]
        return []
    found = {p.pk: p for p in Patch.objects.select_related("project").filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        errors["related"] = [f'Invalid pk "{missing[0]}" - object does not exist.']
        return []
    return [found[pk] for pk in dict.fromkeys(ids)]


def _check_relation_change(user, patch: Patch, related: list[Patch]) -> None:
    """Only maintainers of every patch involved may relate them; break before make (409)."""
    involved = [patch, *related]
    if patch.related_id:
        involved += list(Patch.objects.select_related("project").filter(related=patch.related_id))
    for project in {p.project_id: p.project for p in involved}.values():
        if not user_is_maintainer(user, project):
            raise forbidden("You must be a maintainer of every patch in the relation.")
    for other in related:
        if other.related_id and other.related_id != patch.related_id:
            raise ApiError(
                409,
                {
                    "detail": f"Patch {other.pk} is already related to other patches; "
                    "remove it from that relation first."
                },
            )


def _state_value(value: Any, errors: dict) -> State | None:
    state = state_lookup(value) if isinstance(value, str) else None
    if state is None:
        slugs = ", ".join(State.objects.values_list("slug", flat=True))
        errors["state"] = [f"Invalid state {value!r}. Expected one of: {slugs}."]
    return state


def _archived_value(value: Any, errors: dict) -> bool | None:
    archived = parse_bool(value)
    if archived is None:
        errors["archived"] = ["Must be a valid boolean."]
    return archived


def _body_fields(data: RequestData, ctx: ApiContext, errors: dict) -> dict[str, Any]:
    """The valid values of the writable fields the body has, in the REST order; each
    invalid one gets its message in errors instead."""
    readers: dict[str, Callable[[], Any]] = {
        "state": lambda: _state_value(data.get("state"), errors),
        "delegate": lambda: _delegate_value(data.get("delegate"), errors),
        "archived": lambda: _archived_value(data.get("archived"), errors),
        "commit_ref": lambda: _text_value(data.get("commit_ref"), "commit_ref", errors),
        "pull_url": lambda: _text_value(data.get("pull_url"), "pull_url", errors),
    }
    if ctx.since(PATCH_RELATED):
        readers["related"] = lambda: _related_value(data, errors)
    changes: dict[str, Any] = {}
    for name, read in readers.items():
        if name in data:
            value = read()
            if name not in errors:
                changes[name] = value
    return changes


def patch_changes(
    data: RequestData, ctx: ApiContext, patch: Patch, *, partial: bool
) -> dict[str, Any]:
    """The patch_update() arguments a PATCH/PUT body asks for; 400 on invalid values."""
    errors: dict[str, list[str]] = {}
    if not partial:  # PUT
        for required in ("state", "delegate"):
            if required not in data:
                errors[required] = ["This field is required."]
    changes = _body_fields(data, ctx, errors)
    if errors:
        raise invalid(errors)
    if "related" in changes:
        _check_relation_change(ctx.user, patch, changes["related"])
    return changes


router = Router(tags=["patches"])


@router.get("/", summary="List patches.", openapi_extra=PATCH_FILTER_DOC)
def patches_list(request):
    ctx = begin(request)
    pages = PageSource(patches_filtered(request, ctx), patch_summaries)
    return page_response(request, pages, lambda page: render_patches(page, ctx))


@router.get("/{id}/", summary="Show a patch.")
def patches_read(request, id: str):
    ctx = begin(request)
    return json_response(patch_detail_dict(object_or_404(patches_for_detail(), id), ctx))


@router.api_operation(["PATCH", "PUT"], "/{id}/", summary="Update a patch.")
def patches_update(request, id: str):
    ctx = begin(request)
    patch = object_or_404(patches_for_detail(), id)
    user = require_user(ctx)
    if not patch_check_can_edit(user, patch):
        raise forbidden()
    changes = patch_changes(parse_body(request), ctx, patch, partial=request.method == "PATCH")
    if changes:
        patch_update(patch=patch, actor=user, **changes)
        patch = object_or_404(patches_for_detail(), patch.pk)
    return json_response(patch_detail_dict(patch, ctx))
