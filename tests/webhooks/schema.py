"""Validate webhook payloads against the latest published event schemas (v1.4)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openapi" / "v1.4.yaml"

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
    document = yaml.safe_load(SCHEMA.read_text())
    return Registry().with_resource("urn:v1.4", Resource(document, specification=DRAFT202012))


def validate_event(payload: dict) -> None:
    """Raise jsonschema.ValidationError unless payload is a valid v1.4 event of its category."""
    name = EVENT_SCHEMAS[payload["category"]]
    schema = {"$ref": f"urn:v1.4#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(payload)
