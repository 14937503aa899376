"""/api/events/?after=<id>: the pull-side backstop that never misses an event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.events.models import Event
from apps.events.services import event_record
from tests.factories import make_patch, make_project
from tests.webhooks.schema import validate_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.fixture
def events(project):
    """Ten events whose dates lie: the later ids carry older dates (mail dates do)."""
    patch = make_patch(project)
    recorded = [
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch) for _ in range(10)
    ]
    now = timezone.now()
    for n, event in enumerate(recorded):
        Event.objects.filter(pk=event.pk).update(date=now - timedelta(days=n))
    return recorded


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [e["id"] for e in response.json()]


def test_after_returns_larger_ids_oldest_first_whatever_the_dates(client, events):
    third = events[2].pk
    response = client.get("/api/events/", {"after": third})
    assert ids(response) == [e.pk for e in events[3:]]
    for event in response.json():
        validate_event(event)
    # Without the cursor the newest *date* comes first, which is why dates can't be a cursor.
    assert ids(client.get("/api/events/"))[0] == events[0].pk


def test_paging_with_the_cursor_sees_every_event_once(client, events, project):
    seen: list[int] = []
    cursor = 0
    for _ in range(10):
        page = ids(client.get("/api/1.4/events/", {"after": cursor, "per_page": 3}))
        if not page:
            break
        seen += page
        cursor = page[-1]
        # An event recorded while the client pages is picked up by the next request.
        if len(seen) == 3:
            late = event_record(category=Event.PATCH_CREATED, project=project)
    assert seen == [e.pk for e in events] + [late.pk]


def test_the_cursor_combines_with_filters(client, events, project):
    other = make_project("other")
    elsewhere = event_record(category=Event.PATCH_CREATED, project=other)
    check = event_record(category=Event.CHECK_CREATED, project=project, patch=events[0].patch)
    after = events[-1].pk
    assert ids(client.get("/api/events/", {"after": after})) == [elsewhere.pk, check.pk]
    assert ids(client.get("/api/events/", {"after": after, "project": "other"})) == [elsewhere.pk]
    got = ids(client.get("/api/events/", {"after": after, "category": "check-created"}))
    assert got == [check.pk]


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_a_bad_cursor_is_a_400(client, events, value):
    response = client.get("/api/events/", {"after": value})
    assert response.status_code == 400
    assert "after" in response.json()


def test_older_versions_do_not_have_the_cursor(client, events):
    # Unknown parameters are ignored by older versions, as the reference server does.
    assert ids(client.get("/api/1.3/events/", {"after": events[5].pk}))[0] == events[0].pk


def test_the_cursor_costs_a_fixed_number_of_queries(client, events, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert len(ids(client.get("/api/events/", {"after": 0}))) == 10


def test_the_cursor_is_in_the_served_schema():
    from config.api import build_api

    schema = build_api("1.4").get_openapi_schema(path_prefix="/api/1.4/")
    (operation,) = [op["get"] for path, op in schema["paths"].items() if path.endswith("/events/")]
    assert "after" in [p["name"] for p in operation["parameters"]]
