"""Validate webhook payloads against the latest published event schemas (v1.4)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# Patchwork's published v1.4 schema, kept unmodified beside the REST API tests.
SCHEMA = Path(__file__).resolve().parents[1] / "api" / "openapi" / "v1.4.yaml"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi-webhooks.yaml"

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


@cache
def _registry() -> Registry:
    patchwork = Resource(yaml.safe_load(SCHEMA.read_text()), specification=DRAFT202012)
    ours = Resource(docs_document(), specification=DRAFT202012)
    return Registry().with_resources(
        [
            ("urn:v1.4", patchwork),
            ("urn:docs/openapi-webhooks.yaml", ours),
        ]
    )


@cache
def docs_document() -> dict:
    return yaml.safe_load(DOCS.read_text())


def validate_response(path: str, method: str, status: int, data) -> None:
    """Validate an API response against docs/openapi-webhooks.yaml, strictly.

    Every object must carry exactly the properties its schema lists (the secret
    only where the schema says so).
    """
    operation = docs_document()["paths"][path][method]
    responses = operation["responses"]
    assert str(status) in responses, f"{method.upper()} {path}: {status} is not documented"
    content = responses[str(status)].get("content")
    if content is None:
        assert data in (None, b"", ""), data
        return
    schema = content["application/json"]["schema"]
    wrapped = {"$ref": "urn:docs/openapi-webhooks.yaml#/paths/" + _pointer(path, method, status)}
    jsonschema.Draft202012Validator(wrapped, registry=_registry()).validate(data)
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        declared = set(docs_document()["components"]["schemas"][name]["properties"])
        for item in data if isinstance(data, list) else [data]:
            missing = declared - set(item) - {"secret"}
            extra = set(item) - declared
            assert not missing and not extra, f"{name}: missing {missing}, extra {extra}"


def _pointer(path: str, method: str, status: int) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"{escaped}/{method}/responses/{status}/content/application~1json/schema"


def validate_event(payload: dict) -> None:
    """Raise jsonschema.ValidationError unless payload is a valid v1.4 event of its category."""
    name = EVENT_SCHEMAS[payload["category"]]
    schema = {"$ref": f"urn:v1.4#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(payload)
