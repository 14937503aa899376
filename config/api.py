"""The REST API: one NinjaAPI per version (/api/1.0/ … /api/1.4/) plus /api/ (the latest).

Each version exposes exactly the endpoints and fields its reference schema
lists: it mounts the routers apps.api.routes names for it, so an endpoint added
in 1.3 simply does not exist in 1.2 (JSON 404). The routers are module-level
templates mounted in every API; each API tells its requests which version they
came through (``request.api_version``, read by apps.api.versions.begin). Errors
are answered as the reference server answers them: ``{"detail": …}`` or a dict
of per-field messages. The webhook endpoints (apps.webhooks.api) are the latest
version's only.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from apps.api.routes import routers
from apps.api.support import (
    LATEST,
    NO_PERMISSION,
    VERSIONS,
    ApiError,
    error_response,
    json_response,
    validation_errors,
)
from apps.api.versions import ApiVersion
from apps.webhooks.api import router as webhooks_router

# The operation ids the REST schema published before the resources moved to apps.api
# (ninja derives them from the view's module): clients may have generated code from them.
OPERATION_ID_PREFIXES = {
    "apps.api.projects": "apps_projects_api",
    "apps.api.patches": "apps_patches_api",
    "apps.api.comments": "apps_patches_api_comments",
    "apps.api.covers": "apps_patches_api_covers",
    "apps.api.bundles": "apps_patches_api_bundles",
    "apps.api.checks": "apps_checks_api",
    "apps.api.series": "apps_series_api",
    "apps.api.events": "apps_events_api",
    "apps.api.index": "config_api",
}


class PatchworkAPI(NinjaAPI):
    """A NinjaAPI whose operation ids stay what they were published as."""

    def get_openapi_operation_id(self, operation) -> str:
        prefix = OPERATION_ID_PREFIXES.get(operation.view_func.__module__)
        if prefix is None:
            return super().get_openapi_operation_id(operation)
        return f"{prefix}_{operation.view_func.__name__}"


def _handle_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc)


def _handle_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return json_response(validation_errors(exc), status=400)


def _handle_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return json_response({"detail": str(exc) or NO_PERMISSION}, status=403)


def _handle_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return json_response({"detail": "Not found."}, status=404)


def _with_version(v: ApiVersion):
    """A view decorator telling every request of an API which version it came through."""

    def decorator(run):
        @functools.wraps(run)
        def with_version(request, *args, **kwargs):
            request.api_version = v
            return run(request, *args, **kwargs)

        return with_version

    return decorator


def build_api(version: str, *, versioned: bool = True) -> NinjaAPI:
    """The API of one version, mounted at /api/<version>/ (or at /api/ for the latest)."""
    api = PatchworkAPI(
        title="Patchwork API",
        version=version,
        description=f"Patchwork's REST API, version {version}"
        + ("." if versioned else " (the latest, at /api/)."),
        urls_namespace=f"api-{version}" if versioned else "api",
    )
    api.add_decorator(_with_version(ApiVersion(version, versioned)), mode="view")
    # ninja types a handler's second argument as "the exception or its class" (ExcHandler);
    # it always passes the instance, which is all these handlers take.
    api.add_exception_handler(ApiError, _handle_api_error)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, _handle_validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(PermissionDenied, _handle_permission_denied)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, _handle_not_found)  # type: ignore[arg-type]
    api.add_exception_handler(ObjectDoesNotExist, _handle_not_found)  # type: ignore[arg-type]
    for prefix, router in routers(version):
        api.add_router(prefix, router)
    if version == LATEST:
        api.add_router("/webhooks", webhooks_router)
    return api


def build_apis() -> dict[str, NinjaAPI]:
    """Every mounted API by URL prefix under /api/: "1.0/" … "1.4/" and "" (latest)."""
    apis = {f"{version}/": build_api(version) for version in VERSIONS}
    apis[""] = build_api(LATEST, versioned=False)
    return apis
