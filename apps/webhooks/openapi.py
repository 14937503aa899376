"""docs/openapi-webhooks.yaml: the webhook endpoints, the requests sent and the events cursor.

An additive document to Patchwork's published v1.4 schema, built from the same
shapes as the schema django-ninja serves (apps/webhooks/api_docs.py). Print it
with `manage.py webhooks_openapi`.
"""

from __future__ import annotations

from typing import Any

from apps.webhooks.api_docs import (
    ATTEMPT,
    DELIVERY,
    DELIVERY_DETAIL,
    DELIVERY_DETAIL_DOC,
    DELIVERY_LIST_DOC,
    DELIVERY_REDELIVER_DOC,
    INVALID_RESPONSE,
    WEBHOOK,
    WEBHOOK_CREATE_DOC,
    WEBHOOK_DELETE_DOC,
    WEBHOOK_DETAIL_DOC,
    WEBHOOK_LIST_DOC,
    WEBHOOK_PING_DOC,
    WEBHOOK_ROTATE_DOC,
    WEBHOOK_UPDATE_DOC,
    WEBHOOK_WRITE,
)

PATCHWORK_SCHEMA = "../tests/api/openapi/v1.4.yaml"  # the published v1.4 schema, unmodified

OPERATIONS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("/api/1.4/webhooks/", "get", "webhooks_list", "List webhooks.", WEBHOOK_LIST_DOC),
    ("/api/1.4/webhooks/", "post", "webhooks_create", "Create a webhook.", WEBHOOK_CREATE_DOC),
    ("/api/1.4/webhooks/{id}/", "get", "webhooks_read", "Show a webhook.", WEBHOOK_DETAIL_DOC),
    ("/api/1.4/webhooks/{id}/", "put", "webhooks_update", "Update a webhook.", WEBHOOK_UPDATE_DOC),
    (
        "/api/1.4/webhooks/{id}/",
        "patch",
        "webhooks_partial_update",
        "Update a webhook.",
        WEBHOOK_UPDATE_DOC,
    ),
    (
        "/api/1.4/webhooks/{id}/",
        "delete",
        "webhooks_delete",
        "Delete a webhook.",
        WEBHOOK_DELETE_DOC,
    ),
    ("/api/1.4/webhooks/{id}/ping/", "post", "webhooks_ping", "Ping a webhook.", WEBHOOK_PING_DOC),
    (
        "/api/1.4/webhooks/{id}/rotate-secret/",
        "post",
        "webhooks_rotate_secret",
        "Rotate a webhook's secret.",
        WEBHOOK_ROTATE_DOC,
    ),
    (
        "/api/1.4/webhooks/{id}/deliveries/",
        "get",
        "deliveries_list",
        "List a webhook's deliveries.",
        DELIVERY_LIST_DOC,
    ),
    (
        "/api/1.4/webhooks/{id}/deliveries/{delivery_id}/",
        "get",
        "deliveries_read",
        "Show a delivery with its attempts.",
        DELIVERY_DETAIL_DOC,
    ),
    (
        "/api/1.4/webhooks/{id}/deliveries/{delivery_id}/redeliver/",
        "post",
        "deliveries_redeliver",
        "Send a delivery again (same webhook-id).",
        DELIVERY_REDELIVER_DOC,
    ),
]

EVENT_SCHEMAS = {
    "cover-created": "EventCoverCreated",
    "patch-created": "EventPatchCreated",
    "patch-completed": "EventPatchCompleted",
    "patch-state-changed": "EventPatchStateChanged",
    "patch-relation-changed": "EventPatchRelationChanged",
    "patch-delegated": "EventPatchDelegated",
    "check-created": "EventCheckCreated",
    "series-created": "EventSeriesCreated",
    "series-completed": "EventSeriesCompleted",
    "cover-comment-created": "EventCoverCommentCreated",
    "patch-comment-created": "EventPatchCommentCreated",
}

_API_URL = {"type": "string", "format": "uri"}
REVISION_CHANGES = {
    "type": "object",
    "title": "RevisionChanges",
    "description": "Sent in series-completed events of a series that rerolls an earlier one "
    "(payload.revision; absent otherwise): what changed since the previous revision, as its "
    "range-diff page shows. A patch whose only change is newly collected trailers counts as "
    "unchanged.",
    "properties": {
        "previous_revision": {**_API_URL, "description": "The previous revision (API URL)."},
        "range_diff": {**_API_URL, "description": "The range-diff page."},
        "version": {"type": "integer"},
        "previous_version": {"type": "integer"},
        "patches": {"type": "integer", "description": "Patches of this revision."},
        "changed": {
            "type": "integer",
            "description": "Patches of this revision changed or new since the previous one.",
        },
        "new": {"type": "integer"},
        "dropped": {"type": "integer", "description": "Patches of the previous revision gone."},
        "unchanged": {"type": "integer"},
        "unchanged_patches": {
            "type": "array",
            "items": _API_URL,
            "description": "This revision's patches whose code and commit message did not "
            "change (API URLs): a CI run on their previous version still holds.",
        },
        "summary": {"type": "string", "description": 'E.g. "v3: 2 of 5 patches changed since v2".'},
    },
    "required": [
        "previous_revision",
        "range_diff",
        "version",
        "previous_version",
        "patches",
        "changed",
        "new",
        "dropped",
        "unchanged",
        "unchanged_patches",
        "summary",
    ],
    "additionalProperties": False,
}

PING = {
    "type": "object",
    "title": "Ping",
    "properties": {
        "category": {"type": "string", "enum": ["ping"]},
        "date": {"type": "string", "format": "iso8601"},
        "webhook": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "url": {"type": "string", "format": "uri"},
                "target_url": {"type": "string", "format": "uri"},
            },
        },
    },
}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


OUTGOING_HEADERS = [
    _header(
        "webhook-id",
        "The delivery's id (msg_…): the same on every retry and redelivery; deduplicate on it.",
    ),
    _header("webhook-timestamp", "Seconds since the epoch when this attempt was signed."),
    _header(
        "webhook-signature",
        'Space-separated "v1,<base64 HMAC-SHA256>" signatures of '
        '"{webhook-id}.{webhook-timestamp}.{body}", keyed with the base64-decoded part of '
        "the secret after whsec_; two during a secret rotation. Standard Webhooks.",
    ),
    _header("X-Patchwork-Event", "The event category (or ping)."),
    _header("User-Agent", "Patchwork-Webhooks/<version> (+<site URL>)."),
]


def _outgoing(category: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"A {category} event." if category != "ping" else "A ping.",
            "description": "Sent after the change commits; retried with backoff for 3 days "
            "until a 2xx answer. 410 disables the webhook.",
            "parameters": OUTGOING_HEADERS,
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {
                "2XX": {"description": "Received."},
                410: {"description": "Gone: the webhook is disabled."},
                "default": {
                    "description": "Anything else is retried (429/503: after Retry-After)."
                },
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    """The webhook endpoints, outgoing requests and the events cursor as OpenAPI 3.1."""
    paths = _paths()
    webhooks = _outgoing_requests()
    components = {
        "Webhook": WEBHOOK,
        "WebhookWrite": WEBHOOK_WRITE,
        "Delivery": DELIVERY,
        "DeliveryDetail": DELIVERY_DETAIL,
        "DeliveryAttempt": ATTEMPT,
        "Ping": PING,
        "RevisionChanges": REVISION_CHANGES,
    }
    refs = {id(schema): f"#/components/schemas/{name}" for name, schema in components.items()}
    headers = {header["name"]: header for header in OUTGOING_HEADERS}
    refs.update({id(h): f"#/components/parameters/{name}" for name, h in headers.items()})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Patchwork API: webhooks",
            "version": "1.4",
            "description": "An addition to Patchwork's published v1.4 schema: the webhook "
            "endpoints (served at /api/1.4/ and /api/ only), the requests Patchwork sends to "
            "webhooks, and the events cursor. Generated by `manage.py webhooks_openapi`.",
        },
        "paths": _with_refs(paths, refs),
        "webhooks": _with_refs(webhooks, refs),
        "components": {
            "schemas": {
                name: _with_refs(schema, refs, top=True) for name, schema in components.items()
            },
            "parameters": {name: dict(header) for name, header in headers.items()},
        },
    }


def _paths() -> dict[str, Any]:
    """The webhook endpoints (OPERATIONS) and the events list's after parameter."""
    paths: dict[str, Any] = {}
    for path, method, operation_id, summary, doc in OPERATIONS:
        parameters = [
            {"in": "path", "name": name, "required": True, "schema": {"type": "integer"}}
            for name in ("id", "delivery_id")
            if "{" + name + "}" in path
        ]
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["webhooks"],
        }
        operation.update(doc)
        operation["responses"] = {str(code): r for code, r in doc["responses"].items()}
        operation["parameters"] = parameters + list(doc.get("parameters", []))
        paths.setdefault(path, {})[method] = operation
    paths["/api/1.4/events/"] = {
        "get": {
            "summary": "List events (this document adds the after parameter only).",
            "operationId": "events_list",
            "tags": ["events"],
            "parameters": [
                {
                    "in": "query",
                    "name": "after",
                    "description": "Only events with a larger id than this one, in ascending "
                    "id order: a cursor that never misses an event whatever the dates say.",
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                200: {"description": "Events, as the v1.4 schema describes them."},
                400: INVALID_RESPONSE,
            },
        }
    }
    return paths


def _outgoing_requests() -> dict[str, Any]:
    """The requests Patchwork sends to webhooks, one per event category, and the ping."""
    webhooks = {
        category: _outgoing(category, {"$ref": f"{PATCHWORK_SCHEMA}#/components/schemas/{name}"})
        for category, name in EVENT_SCHEMAS.items()
    }
    webhooks["series-completed"] = _outgoing(
        "series-completed",
        {
            "allOf": [
                {"$ref": f"{PATCHWORK_SCHEMA}#/components/schemas/EventSeriesCompleted"},
                {
                    "type": "object",
                    "properties": {
                        "payload": {
                            "type": "object",
                            "properties": {"revision": REVISION_CHANGES},
                        }
                    },
                },
            ]
        },
    )
    webhooks["ping"] = _outgoing("ping", PING)
    return webhooks


def _with_refs(value: Any, refs: dict[int, str], *, top: bool = False) -> Any:
    """A deep copy where every component schema used inside is replaced by its $ref."""
    if not top and id(value) in refs:
        return {"$ref": refs[id(value)]}
    if isinstance(value, dict):
        return {key: _with_refs(item, refs) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_refs(item, refs) for item in value]
    return value
