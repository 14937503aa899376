"""docs/openapi-webhooks.yaml: current, valid OpenAPI 3.1, and in step with the served schema."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from apps.api.support import LATEST
from apps.webhooks.openapi import openapi_document
from config.api import build_api
from tests.webhooks.schema import DOCS, docs_document


def test_the_document_is_generated_from_the_code():
    assert docs_document() == openapi_document(), (
        "docs/openapi-webhooks.yaml is stale: "
        "run `./dev manage webhooks_openapi > docs/openapi-webhooks.yaml`"
    )


def test_the_document_is_valid_openapi_3_1_and_its_references_resolve():
    spec, base_uri = read_from_filename(str(DOCS))
    validate(spec, base_uri=base_uri)


@pytest.mark.parametrize("versioned", [True, False])
def test_the_served_schema_has_every_webhook_operation(versioned):
    prefix = f"/api/{LATEST}/" if versioned else "/api/"
    served = build_api(LATEST, versioned=versioned).get_openapi_schema(path_prefix=prefix)
    documented = docs_document()["paths"]
    for path, operations in documented.items():
        if not path.startswith("/api/1.4/webhooks/"):
            continue
        served_path = prefix + path.removeprefix("/api/1.4/").replace("{id}", "{webhook_id}")
        assert served_path in served["paths"], served_path
        for method, operation in operations.items():
            got = served["paths"][served_path][method]
            assert {str(code) for code in got["responses"]} == set(operation["responses"]), (
                path,
                method,
            )
            assert got["summary"] == operation["summary"]


def test_older_versions_have_no_webhooks():
    served = build_api("1.3").get_openapi_schema(path_prefix="/api/1.3/")
    assert not [p for p in served["paths"] if "webhooks" in p]
