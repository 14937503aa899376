"""OpenAPI documentation of the webhook endpoints, for the schema django-ninja serves.

The same shapes, with the outgoing requests themselves, are in
docs/openapi-webhooks.yaml (an additive document to the reference v1.4 schema);
tests check that the two agree.
"""

from __future__ import annotations

from typing import Any

from apps.events.models import Event

CATEGORIES = [value for value, _ in Event.CATEGORIES]

_STRING_OR_NULL = {"type": ["string", "null"]}

PROJECT_EMBEDDED = {
    "type": "object",
    "description": "A project, as embedded elsewhere in the API.",
    "properties": {"id": {"type": "integer"}, "url": {"type": "string", "format": "uri"}},
}
USER_EMBEDDED = {
    "type": "object",
    "description": "A user, as embedded elsewhere in the API.",
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
        "username": {"type": "string"},
    },
}

WEBHOOK = {
    "type": "object",
    "title": "Webhook",
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "url": {"type": "string", "format": "uri", "readOnly": True},
        "target_url": {
            "type": "string",
            "format": "uri",
            "description": "Where events are POSTed (http or https).",
        },
        "description": {"type": "string", "maxLength": 255},
        "projects": {
            "type": "array",
            "items": PROJECT_EMBEDDED,
            "description": "The projects whose events are sent; empty: every project.",
        },
        "categories": {
            "type": "array",
            "items": {"type": "string", "enum": CATEGORIES},
            "description": "The event categories sent; empty: every category.",
        },
        "active": {"type": "boolean"},
        "owner": USER_EMBEDDED,
        "created": {"type": "string", "format": "iso8601", "readOnly": True},
        "failing_since": {**_STRING_OR_NULL, "format": "iso8601", "readOnly": True},
        "disabled_reason": {"type": "string", "readOnly": True},
        "previous_secret_expires": {
            **_STRING_OR_NULL,
            "format": "iso8601",
            "readOnly": True,
            "description": "Until then, requests are also signed with the previous secret.",
        },
        "deliveries": {"type": "string", "format": "uri", "readOnly": True},
        "secret": {
            "type": "string",
            "readOnly": True,
            "description": "whsec_<base64 key>; only in the responses that create or rotate it.",
        },
    },
}

WEBHOOK_WRITE = {
    "type": "object",
    "properties": {
        "target_url": {"type": "string", "format": "uri"},
        "description": {"type": "string", "maxLength": 255},
        "projects": {
            "type": "array",
            "items": {"type": ["integer", "string"]},
            "description": "Project ids or linknames.",
        },
        "categories": {"type": "array", "items": {"type": "string", "enum": CATEGORIES}},
        "active": {"type": "boolean"},
    },
}

DELIVERY = {
    "type": "object",
    "title": "Delivery",
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
        "webhook_id": {
            "type": "string",
            "description": "The webhook-id header: the same on every retry and redelivery.",
        },
        "category": {"type": "string", "enum": [*CATEGORIES, "ping"]},
        "event": {"type": ["integer", "null"], "description": "The event's id (null: ping)."},
        "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed"]},
        "attempts": {"type": "integer"},
        "created": {"type": "string", "format": "iso8601"},
        "next_attempt_at": {**_STRING_OR_NULL, "format": "iso8601"},
        "delivered_at": {**_STRING_OR_NULL, "format": "iso8601"},
        "last_status": {"type": ["integer", "null"]},
        "last_error": {"type": "string"},
    },
}

ATTEMPT = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "started": {"type": "string", "format": "iso8601"},
        "duration_ms": {"type": "integer"},
        "request_headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "request_body": {"type": "string"},
        "response_status": {"type": ["integer", "null"]},
        "response_headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "response_body": {"type": "string", "description": "The first KiB."},
        "error": {"type": "string"},
    },
}

DELIVERY_DETAIL = {
    "type": "object",
    "title": "Delivery detail",
    "properties": {
        **DELIVERY["properties"],
        "body": {"type": "string", "description": "The JSON body sent."},
        "attempt_log": {"type": "array", "items": ATTEMPT},
    },
}

ERROR = {"type": "object", "additionalProperties": True}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NOT_FOUND = _json(ERROR, "Not found, or not yours.")
_FORBIDDEN = _json(ERROR, "Not logged in.")
_INVALID = _json(ERROR, "Invalid input: messages per field.")
_PAGED = {"page": "A page number.", "per_page": "Number of results per page."}


def _query(**params: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"in": "query", "name": name, "description": text, "schema": {"type": kind}}
        for name, (kind, text) in params.items()
    ]


_PAGE_PARAMS = _query(page=("integer", _PAGED["page"]), per_page=("integer", _PAGED["per_page"]))

WEBHOOK_LIST_DOC = {
    "description": "Your webhooks (every webhook, for admins).",
    "parameters": _PAGE_PARAMS,
    "responses": {
        200: _json({"type": "array", "items": WEBHOOK}, "A page of webhooks."),
        403: _FORBIDDEN,
    },
}
WEBHOOK_CREATE_DOC = {
    "description": "Subscribe a URL to events. The response carries the secret, once; "
    "a ping is sent at once.",
    "requestBody": {"content": {"application/json": {"schema": WEBHOOK_WRITE}}},
    "responses": {
        201: _json(WEBHOOK, "The new webhook, with its secret."),
        400: _INVALID,
        403: _FORBIDDEN,
    },
}
WEBHOOK_DETAIL_DOC = {
    "responses": {200: _json(WEBHOOK, "The webhook."), 403: _FORBIDDEN, 404: _NOT_FOUND}
}
WEBHOOK_UPDATE_DOC = {
    "description": "Change a webhook; setting active to true again clears its failure record.",
    "requestBody": {"content": {"application/json": {"schema": WEBHOOK_WRITE}}},
    "responses": {
        200: _json(WEBHOOK, "The webhook."),
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}
WEBHOOK_DELETE_DOC = {
    "responses": {204: {"description": "Deleted."}, 403: _FORBIDDEN, 404: _NOT_FOUND}
}
WEBHOOK_PING_DOC = {
    "description": "Queue a ping (X-Patchwork-Event: ping).",
    "responses": {
        202: _json(DELIVERY, "The queued ping."),
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}
WEBHOOK_ROTATE_DOC = {
    "description": "Make a new secret; the previous one keeps signing (a second signature in "
    "webhook-signature) for overlap_hours (default 24, at most 168).",
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "overlap_hours": {"type": "integer", "minimum": 0, "maximum": 168}
                    },
                }
            }
        }
    },
    "responses": {
        200: _json(WEBHOOK, "The webhook, with its new secret."),
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}
DELIVERY_LIST_DOC = {
    "description": "The delivery log, newest first.",
    "parameters": [
        *_PAGE_PARAMS,
        *_query(failed=("boolean", "Only deliveries whose last attempt failed.")),
    ],
    "responses": {
        200: _json({"type": "array", "items": DELIVERY}, "A page of deliveries."),
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}
DELIVERY_DETAIL_DOC = {
    "responses": {
        200: _json(DELIVERY_DETAIL, "The delivery and its attempts."),
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    }
}
DELIVERY_REDELIVER_DOC = {
    "description": "Send the delivery again with the same webhook-id and body.",
    "responses": {
        202: _json(DELIVERY, "The delivery, queued."),
        400: _INVALID,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}


# --- the additive OpenAPI document (docs/openapi-webhooks.yaml) ------------------------

PATCHWORK_SCHEMA = "../tests/api/openapi/v1.4.yaml"  # the published v1.4 schema, unmodified

OPERATIONS = [
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
    paths: dict[str, Any] = {}
    for path, method, operation_id, summary, doc in OPERATIONS:
        parameters = [
            {"in": "path", "name": name, "required": True, "schema": {"type": "integer"}}
            for name in ("id", "delivery_id")
            if "{" + name + "}" in path
        ]
        operation = {"summary": summary, "operationId": operation_id, "tags": ["webhooks"]}
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
                400: _INVALID,
            },
        }
    }
    webhooks = {
        category: _outgoing(category, {"$ref": f"{PATCHWORK_SCHEMA}#/components/schemas/{name}"})
        for category, name in EVENT_SCHEMAS.items()
    }
    webhooks["ping"] = _outgoing("ping", PING)
    components = {
        "Webhook": WEBHOOK,
        "WebhookWrite": WEBHOOK_WRITE,
        "Delivery": DELIVERY,
        "DeliveryDetail": DELIVERY_DETAIL,
        "DeliveryAttempt": ATTEMPT,
        "Ping": PING,
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


def _with_refs(value: Any, refs: dict[int, str], *, top: bool = False) -> Any:
    """A deep copy where every component schema used inside is replaced by its $ref."""
    if not top and id(value) in refs:
        return {"$ref": refs[id(value)]}
    if isinstance(value, dict):
        return {key: _with_refs(item, refs) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_refs(item, refs) for item in value]
    return value
