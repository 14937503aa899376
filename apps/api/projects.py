"""REST endpoints: /projects/, /people/ and /users/."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from ninja import Router

from apps.accounts.models import User
from apps.accounts.services import user_settings_update
from apps.api.serializers.projects import person_to_dict, project_to_dict, user_to_dict
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
    validation_errors,
)
from apps.api.versions import USER_SETTINGS_WRITE, begin
from apps.projects.models import Person, Project
from apps.projects.params import parse_id
from apps.projects.selectors import user_is_maintainer
from apps.projects.services import project_update

PROJECT_ORDER = {"id": "id", "name": "name", "linkname": "linkname", "link_name": "linkname"}
PERSON_ORDER = {"id": "id", "name": "name", "email": "email"}
USER_ORDER = {"id": "id", "username": "username", "email": "email"}

# Project fields a maintainer may change, by the version that introduced them.
PROJECT_WRITABLE = {
    "web_url": "1.0",
    "scm_url": "1.0",
    "webscm_url": "1.0",
    "list_archive_url": "1.2",
    "list_archive_url_format": "1.2",
    "commit_url_format": "1.2",
    "show_dependencies": "1.4",
}
USER_WRITABLE = ("first_name", "last_name")
USER_SETTINGS = {"send_email": bool, "items_per_page": int, "show_ids": bool}


def _projects():
    return Project.objects.prefetch_related(
        Prefetch("maintainers", queryset=User.objects.order_by("id"))
    )


def project_lookup_or_404(raw: str) -> Project:
    """A project by id or by linkname, as /projects/{id}/ accepts both."""
    qs = _projects()
    pk = parse_id(raw)
    project = qs.filter(pk=pk).first() if pk else qs.filter(linkname=raw).first()
    if project is None:
        raise not_found()
    return project


def _project_changes(data, ctx: ApiContext) -> dict:
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, since in PROJECT_WRITABLE.items():
        if name not in data or not ctx.since(since):
            continue
        value = data.get(name)
        if name == "show_dependencies":
            parsed = parse_bool(value)
            if parsed is None:
                errors[name] = ["Must be a valid boolean."]
            else:
                changes[name] = parsed
        elif value is not None and not isinstance(value, str):
            errors[name] = ["Not a valid string."]
        else:
            changes[name] = (value or "").strip()
    if errors:
        raise invalid(errors)
    return changes


def _user_changes(data, ctx: ApiContext, user: User) -> dict:
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in USER_WRITABLE:
        if name in data:
            value = data.get(name)
            if not isinstance(value, str):
                errors[name] = ["Not a valid string."]
            else:
                changes[name] = value.strip()
    settings = data.get("settings")
    if settings is not None and ctx.since(USER_SETTINGS_WRITE):
        if ctx.user.pk != user.pk:
            errors["settings"] = ["Only your own settings can be changed."]
        elif not isinstance(settings, dict):
            errors["settings"] = ["Expected an object of settings."]
        else:
            for name, kind in USER_SETTINGS.items():
                if name not in settings:
                    continue
                value = settings[name]
                parsed: bool | int | None
                if kind is bool:
                    parsed = parse_bool(value)
                else:
                    parsed = (
                        value if isinstance(value, int) and not isinstance(value, bool) else None
                    )
                if parsed is None:
                    errors.setdefault("settings", []).append(f"{name}: invalid value.")
                else:
                    changes[name] = parsed
    if errors:
        raise invalid(errors)
    return changes


def _user_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Model errors as the API shows them: settings' errors nested under "settings"."""
    errors: dict[str, list[str]] = {}
    for field, messages in validation_errors(exc).items():
        if field in USER_SETTINGS:
            errors.setdefault("settings", []).extend(f"{field}: {m}" for m in messages)
        else:
            errors[field] = messages
    return errors


projects = Router(tags=["projects"])
people = Router(tags=["people"])
users = Router(tags=["users"])


@projects.get("/", summary="List projects.", openapi_extra=query_doc(*LIST_PARAMS))
def projects_list(request):
    ctx = begin(request)
    qs = apply_search(_projects(), request, ["name", "linkname", "listid", "listemail"])
    qs = apply_ordering(qs, request, PROJECT_ORDER, "id")
    return page_response(request, qs, lambda page: [project_to_dict(p, ctx) for p in page])


@projects.get("/{id}/", summary="Show a project (by ID or linkname).")
def projects_read(request, id: str):
    ctx = begin(request)
    return json_response(project_to_dict(project_lookup_or_404(id), ctx))


@projects.api_operation(["PATCH", "PUT"], "/{id}/", summary="Update a project.")
def projects_update(request, id: str):
    ctx = begin(request)
    user = require_user(ctx)
    project = project_lookup_or_404(id)
    if not user_is_maintainer(user, project):
        raise forbidden()
    changes = _project_changes(parse_body(request), ctx)
    if changes:
        project_update(project=project, **changes)
    return json_response(project_to_dict(project_lookup_or_404(str(project.pk)), ctx))


@people.get("/", summary="List people.", openapi_extra=query_doc(*LIST_PARAMS))
def people_list(request):
    ctx = begin(request)
    require_user(ctx)
    qs = apply_search(Person.objects.select_related("user"), request, ["name", "email"])
    qs = apply_ordering(qs, request, PERSON_ORDER, "id")
    return page_response(request, qs, lambda page: [person_to_dict(p, ctx) for p in page])


@people.get("/{id}/", summary="Show a person.")
def people_read(request, id: str):
    ctx = begin(request)
    require_user(ctx)
    person = object_or_404(Person.objects.select_related("user"), id)
    return json_response(person_to_dict(person, ctx))


@users.get("/", summary="List users.", openapi_extra=query_doc(*LIST_PARAMS))
def users_list(request):
    ctx = begin(request)
    require_user(ctx)
    qs = apply_search(
        User.objects.filter(is_active=True),
        request,
        ["username", "first_name", "last_name", "email"],
    )
    qs = apply_ordering(qs, request, USER_ORDER, "id")
    return page_response(request, qs, lambda page: [user_to_dict(u, ctx) for u in page])


@users.get("/{id}/", summary="Show a user.")
def users_read(request, id: str):
    ctx = begin(request)
    require_user(ctx)
    user = object_or_404(User.objects.filter(is_active=True), id)
    return json_response(user_to_dict(user, ctx, detail=True))


@users.api_operation(["PATCH", "PUT"], "/{id}/", summary="Update a user.")
def users_update(request, id: str):
    ctx = begin(request)
    caller = require_user(ctx)
    user = object_or_404(User.objects.filter(is_active=True), id)
    if caller.pk != user.pk and not caller.is_superuser:
        raise forbidden()
    changes = _user_changes(parse_body(request), ctx, user)
    if changes:
        try:
            user_settings_update(user=user, **changes)
        except ValidationError as exc:
            raise invalid(_user_errors(exc)) from exc
    return json_response(user_to_dict(user, ctx, detail=True))
