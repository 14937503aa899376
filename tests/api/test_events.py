"""/events/: every category with its payload, actor, filters and order; event_to_dict."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.api.serializers.events import PAYLOAD_FIELDS, event_to_dict
from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.services import patch_update
from tests.api.client import ApiClient
from tests.api.conftest import T0, state
from tests.factories import make_cover_comment, make_patch_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_event(world, maintainer, delegate_user):
    """One event of every category, made through the services where they exist."""
    project, p1, cover, series = world["project"], world["p1"], world["cover"], world["series"]
    event_record(category=Event.COVER_CREATED, project=project, cover=cover)
    event_record(category=Event.PATCH_CREATED, project=project, patch=p1)
    event_record(category=Event.PATCH_COMPLETED, project=project, patch=p1, series=series)
    event_record(category=Event.SERIES_CREATED, project=project, series=series)
    event_record(category=Event.SERIES_COMPLETED, project=project, series=series)
    patch_comment = make_patch_comment(p1, headers="Subject: Re: [PATCH] first\n")
    event_record(
        category=Event.PATCH_COMMENT_CREATED,
        project=project,
        patch=p1,
        patch_comment=patch_comment,
    )
    cover_comment = make_cover_comment(cover, headers="Subject: Re: [PATCH 0/2] cover\n")
    event_record(
        category=Event.COVER_COMMENT_CREATED,
        project=project,
        cover=cover,
        cover_comment=cover_comment,
    )
    patch_update(
        patch=p1,
        actor=maintainer,
        state=state("accepted"),
        delegate=delegate_user,
        related=[world["p2"]],
    )
    check_create(patch=p1, user=maintainer, state="fail", context="ci")
    return world


def test_every_category_validates_with_its_payload(every_event, api):
    events = api.get("events/", {"per_page": 100}).data
    by_category = {}
    for event in events:
        by_category.setdefault(event["category"], event)
    assert set(by_category) == set(PAYLOAD_FIELDS)
    for category, event in by_category.items():
        assert list(event["payload"]) == list(PAYLOAD_FIELDS[category]), category
    changed = by_category["patch-state-changed"]
    assert changed["payload"]["previous_state"] == "new"
    assert changed["payload"]["current_state"] == "accepted"
    assert changed["actor"]["username"] == "maintainer"
    delegated = by_category["patch-delegated"]["payload"]
    assert delegated["previous_delegate"] is None
    assert delegated["current_delegate"]["username"] == "delegate"
    relation = by_category["patch-relation-changed"]["payload"]
    assert relation["previous_relation"] is None and relation["current_relation"].isdigit()
    check = by_category["check-created"]["payload"]["check"]
    assert (check["state"], check["context"]) == ("fail", "ci")
    comment = by_category["patch-comment-created"]["payload"]["comment"]
    assert comment["web_url"].startswith("http://testserver/comment/")
    assert by_category["cover-created"]["payload"]["cover"]["mbox"].endswith("/mbox/")
    assert by_category["patch-created"]["actor"] is None


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_actor_appears_in_1_2(version, every_event):
    events = ApiClient(version).get("events/").data
    assert events and all("actor" not in e for e in events)


def test_newest_first_by_default_and_order_by_date(every_event, api):
    newest = api.get("events/").data
    dates = [(e["date"], e["id"]) for e in newest]
    assert dates == sorted(dates, reverse=True)
    oldest = api.get("events/", {"order": "date"}).data
    assert [e["id"] for e in oldest] == sorted(e["id"] for e in oldest)


def test_event_filters(every_event, api):
    p1, series, cover = every_event["p1"], every_event["series"], every_event["cover"]

    def categories(query):
        return sorted({e["category"] for e in api.get("events/", query).data})

    assert categories({"category": "check-created"}) == ["check-created"]
    assert categories([("category", "series-created"), ("category", "cover-created")]) == [
        "cover-created",
        "series-created",
    ]
    assert categories({"series": series.id}) == [
        "patch-completed",
        "series-completed",
        "series-created",
    ]
    assert categories({"cover": cover.id}) == ["cover-comment-created", "cover-created"]
    assert "patch-delegated" in categories({"patch": p1.id})
    assert categories({"project": "other"}) == []
    assert categories({"project": "demo", "before": "2000-01-01"}) == []


def test_invalid_event_filters_are_400(every_event, api):
    response = api.get("events/", {"category": "bogus"}, validate_request=False)
    assert response.status_code == 400 and list(response.data) == ["category"]
    response = api.get("events/", {"patch": "abc"}, validate_request=False)
    assert response.status_code == 400 and list(response.data) == ["patch"]


def test_since_filter(world, api):
    early = event_record(category=Event.PATCH_CREATED, project=world["project"], patch=world["p1"])
    Event.objects.filter(pk=early.pk).update(date=T0)
    late = event_record(category=Event.PATCH_CREATED, project=world["project"], patch=world["p2"])
    Event.objects.filter(pk=late.pk).update(date=T0 + timedelta(days=1))
    ids = [e["id"] for e in api.get("events/", {"since": "2024-03-01T13:00:00"}).data]
    assert ids == [late.id]


def test_event_to_dict_is_the_latest_api_view_for_webhooks(every_event, api):
    event = Event.objects.filter(category=Event.PATCH_STATE_CHANGED).get()
    listed = api.get("events/", {"category": "patch-state-changed"}, version=None).data[0]
    assert event_to_dict(event, base_url="http://testserver") == listed
    delivered = event_to_dict(event, base_url="https://pw.example.org/")
    assert delivered["payload"]["patch"]["url"].startswith("https://pw.example.org/api/patches/")
    assert delivered["actor"]["username"] == "maintainer"
    old = event_to_dict(event, base_url="https://pw.example.org", version="1.1")
    assert "actor" not in old and old["project"]["url"].startswith(
        "https://pw.example.org/api/1.1/"
    )


def test_events_list_query_count_is_constant(every_event, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            listed = api.get("events/", {"per_page": 100}).data
        counts.append((len(listed), len(ctx.captured_queries)))
        # Twice as many events the second time round.
        for event in list(Event.objects.all()):
            event.pk = None
            event.save()
    (few, small), (many, large) = counts
    assert many == 2 * few >= 22
    # No query per event: the page's ids and count, the events with their submissions,
    # series and checks joined, then one lookup each for projects, users and states.
    assert small == large <= 5
