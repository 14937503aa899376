"""A series-completed webhook of a revision carries what changed since the previous one
(payload.revision, docs/openapi-webhooks.yaml), so CI can skip the unchanged patches."""

from __future__ import annotations

import json

import jsonschema
import pytest

from apps.webhooks.services import webhook_create
from tests.mails import deliver
from tests.rerolls import v1, v2
from tests.webhooks.conftest import receiver  # noqa: F401
from tests.webhooks.schema import _registry, validate_event

pytestmark = pytest.mark.django_db

REVISION_CHANGES = {"$ref": "urn:docs/openapi-webhooks.yaml#/components/schemas/RevisionChanges"}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "http://testserver"
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


def test_series_completed_of_a_revision_says_what_changed(
    frob,
    maintainer,
    receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        webhook_create(owner=maintainer, url=receiver.url, categories=["series-completed"])
    with django_capture_on_commit_callbacks(execute=True):
        for raw in v1() + v2():
            deliver(raw)
    _ping, first, second = receiver.wait_for(3)
    first, second = json.loads(first.body), json.loads(second.body)
    for body in (first, second):
        validate_event(body)
    assert "revision" not in first["payload"]  # v1 rerolls nothing: the usual body
    changes = second["payload"]["revision"]
    jsonschema.Draft202012Validator(REVISION_CHANGES, registry=_registry()).validate(changes)
    assert changes["summary"] == "v2: 2 of 2 patches changed since v1"
    assert (changes["version"], changes["previous_version"]) == (2, 1)
    assert (
        changes["previous_revision"]
        == f"http://testserver/api/series/{first['payload']['series']['id']}/"
    )
    assert changes["range_diff"].startswith("http://testserver/project/frob/series/")
    assert (changes["changed"], changes["new"], changes["dropped"]) == (2, 1, 2)
    assert changes["unchanged_patches"] == []
