"""Events arrive signed, in the latest /api/events/ shape, filtered by project and category.

Tasks run eagerly after commit here; tests/webhooks/test_worker.py does the same
through Redis and a real celery worker.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.services import patch_update
from apps.webhooks.models import Delivery
from apps.webhooks.services import webhook_create
from apps.webhooks.signing import signature_verify
from tests.factories import default_state, make_patch, make_project, make_series
from tests.webhooks.receiver import Receiver
from tests.webhooks.schema import validate_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site(settings):
    # Links in payloads are built from SITE_URL; the test client calls itself testserver.
    settings.SITE_URL = "http://testserver"
    settings.ALLOWED_HOSTS = ["testserver"]


def verified(request, secret: str) -> dict:
    h = request.headers
    assert signature_verify(
        secret, h["webhook-id"], int(h["webhook-timestamp"]), request.body, h["webhook-signature"]
    ), "bad signature"
    return json.loads(request.body)


def api_event(event_id: int) -> dict:
    (found,) = [e for e in Client().get("/api/events/?per_page=100").json() if e["id"] == event_id]
    return found


def test_ci_events_arrive_signed_in_the_latest_api_shape(
    maintainer, project, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        webhook, secret = webhook_create(owner=maintainer, url=receiver.url)
    series = make_series(project)
    patch = make_patch(project, series=series)
    with django_capture_on_commit_callbacks(execute=True):
        completed = event_record(
            category=Event.PATCH_COMPLETED, project=project, patch=patch, series=series
        )
        series_done = event_record(category=Event.SERIES_COMPLETED, project=project, series=series)
    with django_capture_on_commit_callbacks(execute=True):
        check = check_create(patch=patch, user=maintainer, state="success", context="build")
    with django_capture_on_commit_callbacks(execute=True):
        patch_update(patch=patch, actor=maintainer, state=default_state("accepted"))

    ping, *events = receiver.wait_for(5)
    assert verified(ping, secret)["category"] == "ping"
    categories = [r.headers["x-patchwork-event"] for r in events]
    assert categories == [
        "patch-completed",
        "series-completed",
        "check-created",
        "patch-state-changed",
    ]
    ids = set()
    for request in events:
        body = verified(request, secret)
        validate_event(body)
        assert body == api_event(body["id"])  # exactly what /api/events/ shows
        assert body["category"] == request.headers["x-patchwork-event"]
        ids.add(request.headers["webhook-id"])
    assert len(ids) == 4

    completed_body = json.loads(events[0].body)
    assert completed_body["id"] == completed.pk
    assert completed_body["payload"]["patch"]["id"] == patch.pk
    assert completed_body["payload"]["patch"]["url"] == f"http://testserver/api/patches/{patch.pk}/"
    assert completed_body["payload"]["series"]["mbox"].startswith("http://testserver/")
    assert json.loads(events[1].body)["id"] == series_done.pk
    check_body = json.loads(events[2].body)
    assert check_body["payload"]["check"]["context"] == "build"
    assert check_body["actor"]["username"] == maintainer.username
    assert check.pk  # recorded through the service
    assert Delivery.objects.filter(status=Delivery.SUCCEEDED).count() == 5


def test_project_and_category_filters_hold_end_to_end(
    maintainer, project, django_capture_on_commit_callbacks
):
    other = make_project("other", maintainers=[maintainer])
    ci, everything = Receiver().start(), Receiver().start()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            webhook_create(
                owner=maintainer,
                url=ci.url,
                projects=[project],
                categories=[Event.PATCH_COMPLETED, Event.SERIES_COMPLETED],
            )
            webhook_create(owner=maintainer, url=everything.url)
        patch, elsewhere = make_patch(project), make_patch(other)
        with django_capture_on_commit_callbacks(execute=True):
            event_record(category=Event.PATCH_COMPLETED, project=project, patch=patch)
            event_record(category=Event.PATCH_COMPLETED, project=other, patch=elsewhere)
            check_create(patch=patch, user=maintainer, state="fail")
            event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
        ci_events = [r.headers["x-patchwork-event"] for r in ci.requests]
        all_events = [
            (r.headers["x-patchwork-event"], json.loads(r.body).get("project", {}).get("id"))
            for r in everything.requests
        ]
        assert ci_events == ["ping", "patch-completed"]
        assert json.loads(ci.requests[1].body)["project"]["id"] == project.pk
        assert all_events == [
            ("ping", None),
            ("patch-completed", project.pk),
            ("patch-completed", other.pk),
            ("check-created", project.pk),
            ("patch-created", project.pk),
        ]
    finally:
        ci.stop()
        everything.stop()
