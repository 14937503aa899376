"""Schemathesis over every schema the API serves: 1.0-1.4 (the published ones with the errata
the API tests apply) and the webhook additions (docs/openapi-webhooks.yaml).

Generated requests, valid and invalid, authenticated as a maintainer: never a 5xx,
every status one the operation documents, every body as its schema says. Derandomized,
so a failure reproduces; the example count keeps the run to a few minutes on PostgreSQL
(``FUZZ_API_EXAMPLES`` raises it for a longer run). Behaviour the schemathesis checks
left out here would flag — matching Patchwork where its schema is stricter than its
server — is listed in docs/compatibility.md, "Input validation".
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.services import api_token_regenerate
from apps.webhooks.models import Webhook
from tests.api.schema import VERSIONS, load_spec
from tests.factories import (
    make_bundle,
    make_check,
    make_cover,
    make_patch,
    make_patch_comment,
    make_project,
    make_series,
)

EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "3"))
# The coverage phase (boundary and malformed values of every parameter: NUL, Unicode
# digits, huge numbers, wrong types) is most of the run: ~3,100 requests for 1.4. It runs
# on the latest version and the webhooks in every run, and on all of them with
# FUZZ_API_FULL=1 (~12,000 requests, the size of the outside probe's run).
FULL = os.environ.get("FUZZ_API_FULL", "") == "1"
WEBHOOKS_SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi-webhooks.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# FUZZ_API_STRICT=1 also fails on schema-invalid requests accepted and valid ones refused:
# where that is Patchwork's own behaviour, docs/compatibility.md ("Input validation") says so.
if os.environ.get("FUZZ_API_STRICT", "") == "1":
    CHECKS += [negative_data_rejection, positive_data_acceptance]


def blank_urls_allowed(node):
    """The reference sends '' for a blank URL field (tests/api/schema.py's _is_url says so)."""
    if isinstance(node, dict):
        if node.get("format") in ("uri", "url"):
            return {"anyOf": [{k: v for k, v in node.items() if k != "title"}, {"const": ""}]}
        return {k: blank_urls_allowed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [blank_urls_allowed(v) for v in node]
    return node


def webhooks_spec() -> dict:
    """The webhook endpoints of docs/openapi-webhooks.yaml (not the requests we send out)."""
    with open(WEBHOOKS_SPEC, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    spec.pop("webhooks", None)
    spec["paths"] = {p: item for p, item in spec["paths"].items() if "/webhooks/" in p}
    return spec


def served_schema(spec: dict, *, coverage: bool):
    schema = schemathesis.openapi.from_dict(blank_urls_allowed(copy.deepcopy(spec)))
    schema.app = WSGIHandler()  # requests go through Django in this process (the test database)
    schema.config.generation.update(modes=list(GenerationMode))
    phases = ["examples", "fuzzing"] + (["coverage"] if coverage or FULL else [])
    schema.config.phases.update(phases=phases)
    return schema


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: requests must not close the test database's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, maintainer, keep_test_connection) -> dict[str, int]:
    """One of everything, by the path segment naming it: generated ids are mapped onto these."""
    project = make_project("fuzz", maintainers=[maintainer])
    cover = make_cover(project)
    series = make_series(project, cover=cover)
    patch = make_patch(project, series=series)
    check = make_check(patch, maintainer)
    webhook = Webhook.objects.create(owner=maintainer, url="https://hooks.example.org/x")
    return {
        "projects": project.pk,
        "patches": patch.pk,
        "covers": cover.pk,
        "series": series.pk,
        "comments": make_patch_comment(patch).pk,
        "checks": check.pk,
        "bundles": make_bundle(maintainer, [patch], public=True).pk,
        "people": patch.submitter_id,
        "users": maintainer.pk,
        "webhooks": webhook.pk,
        "token": api_token_regenerate(user=maintainer),
    }


def _real_ids(case, world: dict) -> None:
    """A valid generated id names the world's object of that kind (else nearly all are 404s);
    invalid ones (negative, text, NUL) stay as generated."""
    segments = case.path.strip("/").split("/")
    for name, value in (case.path_parameters or {}).items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            continue
        placeholder = "{" + name + "}"
        if placeholder in segments and segments.index(placeholder) > 0:
            kind = segments[segments.index(placeholder) - 1]
            if kind in world and value % 4:  # a quarter keep their generated (unknown) id
                case.path_parameters[name] = world[kind]


def _schema_test(spec: dict, *, coverage: bool = False):
    schema = served_schema(spec, coverage=coverage)

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @pytest.mark.django_db
    def test(case, world):
        _real_ids(case, world)
        headers = {"Authorization": f"Token {world['token']}", "Host": "localhost"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return test


test_api_1_0_honours_its_schema = _schema_test(load_spec("1.0"))
test_api_1_1_honours_its_schema = _schema_test(load_spec("1.1"))
test_api_1_2_honours_its_schema = _schema_test(load_spec("1.2"))
test_api_1_3_honours_its_schema = _schema_test(load_spec("1.3"))
test_api_1_4_honours_its_schema = _schema_test(load_spec("1.4"), coverage=True)
test_webhooks_api_honours_its_schema = _schema_test(webhooks_spec(), coverage=True)
assert len(VERSIONS) == 5  # a new version needs its line above


HUGE = "441666481209954664448"  # beyond any database integer


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", f"/api/1.4/patches/{HUGE}/", None),
        ("GET", f"/api/1.4/patches/?project={HUGE}", None),
        ("GET", "/api/1.4/patches/?page=" + HUGE, None),
        ("GET", "/api/1.4/patches/²/", None),
        ("POST", "/api/1.4/bundles/", {"name": "x", "patches": [int(HUGE)]}),
        ("POST", "/api/1.4/bundles/", {"name": "x", "patches": ["²"]}),
    ],
)
def test_numbers_no_column_can_hold_are_never_a_server_error(method, path, body, world):
    response = Client().generic(
        method,
        path,
        "" if body is None else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world['token']}",
    )
    # A filter naming nothing is an empty list (200); an id or a body value is a 4xx.
    assert response.status_code < 500, response.content[:200]
    assert response.status_code != 200 or "?" in path
