"""REST endpoints for webhooks (latest API version only): /webhooks/ and their deliveries.

config/api.py mounts ``router`` on /api/1.4/ and /api/. A webhook is visible to
its owner and to admins only; anyone else gets 404. Its secret appears in the
response that creates it or rotates it, never again. The shapes are documented
in docs/openapi-webhooks.yaml and, per operation, in the schema ninja serves.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router

from apps.api.serializers.projects import project_embedded, user_embedded
from apps.api.support import (
    LATEST,
    ApiContext,
    RequestData,
    format_datetime,
    invalid,
    json_response,
    not_found,
    page_response,
    parse_body,
    parse_bool,
    require_user,
)
from apps.api.versions import ApiVersion
from apps.projects.models import Project
from apps.projects.params import is_id, parse_id, parse_int
from apps.webhooks import selectors, services
from apps.webhooks.api_docs import (
    DELIVERY_DETAIL_DOC,
    DELIVERY_LIST_DOC,
    DELIVERY_REDELIVER_DOC,
    WEBHOOK_CREATE_DOC,
    WEBHOOK_DELETE_DOC,
    WEBHOOK_DETAIL_DOC,
    WEBHOOK_LIST_DOC,
    WEBHOOK_PING_DOC,
    WEBHOOK_ROTATE_DOC,
    WEBHOOK_UPDATE_DOC,
)
from apps.webhooks.models import Delivery, Webhook

router = Router(tags=["webhooks"])


def _begin(request: HttpRequest) -> ApiContext:
    # One router serves /api/1.4/ and /api/; links follow the prefix the client used.
    versioned = request.path_info.startswith(f"/api/{LATEST}/")
    ctx = ApiVersion(LATEST, versioned).begin(request)
    require_user(ctx)
    return ctx


def _webhook(ctx: ApiContext, webhook_id: str | int) -> Webhook:
    pk = parse_int(webhook_id) if not isinstance(webhook_id, int) else webhook_id
    webhook = selectors.webhook_get_for_user(ctx.user, pk) if pk and pk > 0 else None
    if webhook is None:
        raise not_found()
    return webhook


def _delivery(webhook: Webhook, delivery_id: str | int) -> Delivery:
    pk = parse_int(delivery_id) if not isinstance(delivery_id, int) else delivery_id
    delivery = selectors.delivery_get(webhook, pk) if pk and pk > 0 else None
    if delivery is None:
        raise not_found()
    return delivery


# --- representations ------------------------------------------------------------------


def webhook_to_dict(webhook: Webhook, ctx: ApiContext, *, secret: str | None = None) -> dict:
    """A webhook as the API shows it; the secret only when just made."""
    data: dict[str, Any] = {
        "id": webhook.pk,
        "url": ctx.api_url("webhooks", webhook.pk),
        "target_url": webhook.url,
        "description": webhook.description,
        "projects": [project_embedded(p, ctx) for p in webhook.projects.all()],
        "categories": list(webhook.categories),
        "active": webhook.active,
        "owner": user_embedded(webhook.owner, ctx),
        "created": format_datetime(webhook.created),
        "failing_since": format_datetime(webhook.failing_since),
        "disabled_reason": webhook.disabled_reason,
        "previous_secret_expires": format_datetime(webhook.previous_secret_expires),
        "deliveries": ctx.api_url("webhooks", webhook.pk, "deliveries"),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_to_dict(delivery: Delivery, ctx: ApiContext, *, detail: bool = False) -> dict:
    """A delivery as the API shows it; the detail adds the body and every attempt."""
    data: dict[str, Any] = {
        "id": delivery.pk,
        "url": ctx.api_url("webhooks", delivery.webhook_id, "deliveries", delivery.pk),
        "webhook_id": delivery.message_id,
        "category": delivery.category,
        "event": delivery.event_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created": format_datetime(delivery.created),
        "next_attempt_at": format_datetime(delivery.next_attempt_at)
        if delivery.status == Delivery.PENDING
        else None,
        "delivered_at": format_datetime(delivery.delivered_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
    }
    if detail:
        data["body"] = delivery.body
        data["attempt_log"] = [
            {
                "number": a.number,
                "started": format_datetime(a.started),
                "duration_ms": a.duration_ms,
                "request_headers": a.request_headers,
                "request_body": a.request_body,
                "response_status": a.response_status,
                "response_headers": a.response_headers,
                "response_body": a.response_body,
                "error": a.error,
            }
            for a in selectors.delivery_attempts(delivery)
        ]
    return data


# --- request bodies -------------------------------------------------------------------


def _projects(values: list[Any]) -> list[Project]:
    wanted = [str(v).strip() for v in values if str(v).strip()]
    ids = [pk for v in wanted if (pk := parse_id(v)) is not None]
    names = [v for v in wanted if not is_id(v)]
    found = list(Project.objects.filter(pk__in=ids)) + list(
        Project.objects.filter(linkname__in=names)
    )
    known = {str(p.pk) for p in found} | {p.linkname for p in found}
    unknown = [v for v in wanted if v not in known]
    if unknown:
        raise invalid({"projects": [f"Unknown project: {', '.join(unknown)}."]})
    return found


def _changes(data: RequestData, *, require_target: bool) -> dict[str, Any]:
    known = {"target_url", "description", "projects", "categories", "active"}
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if require_target and not data.get("target_url"):
        errors["target_url"] = ["This field is required."]
    if "target_url" in data:
        changes["url"] = str(data.get("target_url") or "")
    if "description" in data:
        changes["description"] = str(data.get("description") or "")
    if "categories" in data:
        changes["categories"] = [str(c) for c in data.getlist("categories")]
    if "projects" in data:
        changes["projects"] = _projects(data.getlist("projects"))
    if "active" in data:
        active = parse_bool(data.get("active"))
        if active is None:
            errors["active"] = ["Must be a valid boolean."]
        changes["active"] = active
    if errors:
        raise invalid(errors)
    if not known & set(data.keys()) and not require_target:
        raise invalid({"detail": [f"Send at least one of: {', '.join(sorted(known))}."]})
    return changes


def _service_errors(exc: ValidationError) -> dict[str, list[str]]:
    # The services call the target "url"; the API calls it "target_url".
    return {
        ("target_url" if field == "url" else field): [str(m) for m in messages]
        for field, messages in exc.message_dict.items()
    }


# --- endpoints --------------------------------------------------------------------------


@router.get("/", summary="List webhooks.", response={200: None}, openapi_extra=WEBHOOK_LIST_DOC)
def webhooks_list(request) -> HttpResponse:
    ctx = _begin(request)
    qs = selectors.webhooks_visible_to(ctx.user).order_by("id")
    return page_response(request, qs, lambda page: [webhook_to_dict(w, ctx) for w in page])


@router.post(
    "/", summary="Create a webhook.", response={201: None}, openapi_extra=WEBHOOK_CREATE_DOC
)
def webhooks_create(request) -> HttpResponse:
    ctx = _begin(request)
    changes = _changes(parse_body(request), require_target=True)
    active = changes.pop("active", True)
    try:
        webhook, secret = services.webhook_create(owner=ctx.user, active=active, **changes)
    except ValidationError as exc:
        raise invalid(_service_errors(exc)) from exc
    return json_response(webhook_to_dict(webhook, ctx, secret=secret), status=201)


@router.get(
    "/{webhook_id}/",
    summary="Show a webhook.",
    response={200: None},
    openapi_extra=WEBHOOK_DETAIL_DOC,
)
def webhooks_read(request, webhook_id: str) -> HttpResponse:
    ctx = _begin(request)
    return json_response(webhook_to_dict(_webhook(ctx, webhook_id), ctx))


def _update(request, webhook_id: str, *, full: bool) -> HttpResponse:
    ctx = _begin(request)
    webhook = _webhook(ctx, webhook_id)
    changes = _changes(parse_body(request), require_target=full)
    try:
        webhook = services.webhook_update(webhook=webhook, **changes)
    except ValidationError as exc:
        raise invalid(_service_errors(exc)) from exc
    return json_response(webhook_to_dict(_webhook(ctx, webhook.pk), ctx))


@router.patch(
    "/{webhook_id}/",
    summary="Update a webhook.",
    response={200: None},
    openapi_extra=WEBHOOK_UPDATE_DOC,
)
def webhooks_partial_update(request, webhook_id: str) -> HttpResponse:
    return _update(request, webhook_id, full=False)


@router.put(
    "/{webhook_id}/",
    summary="Update a webhook.",
    response={200: None},
    openapi_extra=WEBHOOK_UPDATE_DOC,
)
def webhooks_update(request, webhook_id: str) -> HttpResponse:
    return _update(request, webhook_id, full=True)


@router.delete(
    "/{webhook_id}/",
    summary="Delete a webhook.",
    response={204: None},
    openapi_extra=WEBHOOK_DELETE_DOC,
)
def webhooks_delete(request, webhook_id: str) -> HttpResponse:
    ctx = _begin(request)
    services.webhook_delete(webhook=_webhook(ctx, webhook_id))
    return HttpResponse(status=204)


@router.post(
    "/{webhook_id}/ping/",
    summary="Ping a webhook.",
    response={202: None},
    openapi_extra=WEBHOOK_PING_DOC,
)
def webhooks_ping(request, webhook_id: str) -> HttpResponse:
    ctx = _begin(request)
    try:
        delivery = services.webhook_ping(webhook=_webhook(ctx, webhook_id))
    except ValidationError as exc:
        raise invalid(_service_errors(exc)) from exc
    return json_response(delivery_to_dict(delivery, ctx), status=202)


@router.post(
    "/{webhook_id}/rotate-secret/",
    response={200: None},
    summary="Rotate a webhook's secret.",
    openapi_extra=WEBHOOK_ROTATE_DOC,
)
def webhooks_rotate_secret(request, webhook_id: str) -> HttpResponse:
    ctx = _begin(request)
    webhook = _webhook(ctx, webhook_id)
    data = parse_body(request)
    hours = parse_int(data.get("overlap_hours", 24))
    if hours is None:
        raise invalid({"overlap_hours": ["A valid integer is required."]})
    try:
        secret = services.webhook_rotate_secret(webhook=webhook, overlap=timedelta(hours=hours))
    except ValidationError as exc:
        raise invalid(_service_errors(exc)) from exc
    return json_response(webhook_to_dict(_webhook(ctx, webhook.pk), ctx, secret=secret))


@router.get(
    "/{webhook_id}/deliveries/",
    response={200: None},
    summary="List a webhook's deliveries.",
    openapi_extra=DELIVERY_LIST_DOC,
)
def deliveries_list(request, webhook_id: str) -> HttpResponse:
    ctx = _begin(request)
    webhook = _webhook(ctx, webhook_id)
    failed = request.GET.get("failed", "").strip()
    failed_only = parse_bool(failed) if failed else False
    if failed_only is None:
        raise invalid({"failed": ["Must be a valid boolean."]})
    qs = selectors.deliveries_for_webhook(webhook, failed_only=failed_only)
    return page_response(request, qs, lambda page: [delivery_to_dict(d, ctx) for d in page])


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}/",
    response={200: None},
    summary="Show a delivery with its attempts.",
    openapi_extra=DELIVERY_DETAIL_DOC,
)
def deliveries_read(request, webhook_id: str, delivery_id: str) -> HttpResponse:
    ctx = _begin(request)
    delivery = _delivery(_webhook(ctx, webhook_id), delivery_id)
    return json_response(delivery_to_dict(delivery, ctx, detail=True))


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver/",
    response={202: None},
    summary="Send a delivery again (same webhook-id).",
    openapi_extra=DELIVERY_REDELIVER_DOC,
)
def deliveries_redeliver(request, webhook_id: str, delivery_id: str) -> HttpResponse:
    ctx = _begin(request)
    delivery = _delivery(_webhook(ctx, webhook_id), delivery_id)
    try:
        delivery = services.delivery_redeliver(delivery=delivery)
    except ValidationError as exc:
        raise invalid(_service_errors(exc)) from exc
    return json_response(delivery_to_dict(delivery, ctx), status=202)
