"""OpenAPI documentation of the webhook endpoints, for the schema django-ninja serves.

The same shapes, with the outgoing requests themselves, make docs/openapi-webhooks.yaml
(apps/webhooks/openapi.py); tests check that the two agree.
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

DELIVERY: dict[str, Any] = {
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
INVALID_RESPONSE = _json(ERROR, "Invalid input: messages per field.")
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
        404: _NOT_FOUND,  # a page out of range: "Invalid page."
    },
}
WEBHOOK_CREATE_DOC = {
    "description": "Subscribe a URL to events. The response carries the secret, once; "
    "a ping is sent at once.",
    "requestBody": {
        "content": {
            "application/json": {"schema": {"allOf": [WEBHOOK_WRITE, {"required": ["target_url"]}]}}
        }
    },
    "responses": {
        201: _json(WEBHOOK, "The new webhook, with its secret."),
        400: INVALID_RESPONSE,
        403: _FORBIDDEN,
    },
}
WEBHOOK_DETAIL_DOC = {
    "responses": {200: _json(WEBHOOK, "The webhook."), 403: _FORBIDDEN, 404: _NOT_FOUND}
}
WEBHOOK_UPDATE_DOC = {
    "description": "Change a webhook; setting active to true again clears its failure record.",
    "requestBody": {
        "content": {
            "application/json": {"schema": {"allOf": [WEBHOOK_WRITE, {"minProperties": 1}]}}
        }
    },
    "responses": {
        200: _json(WEBHOOK, "The webhook."),
        400: INVALID_RESPONSE,
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
        400: INVALID_RESPONSE,
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
        400: INVALID_RESPONSE,
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
        400: INVALID_RESPONSE,
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
        400: INVALID_RESPONSE,
        403: _FORBIDDEN,
        404: _NOT_FOUND,
    },
}
