"""Fixtures for the REST API tests: schema-validating clients and a small world of data."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from apps.events.models import Event
from apps.projects.models import State
from tests.api.client import ApiClient
from tests.factories import (
    make_bundle,
    make_cover,
    make_patch,
    make_person,
    make_project,
    make_series,
    make_user,
)

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def api_patch(project, *, n: int = 0, **fields):
    """A patch as mail ingestion would store it (a hash, headers, a date)."""
    fields.setdefault("date", T0 + timedelta(minutes=n))
    patch = make_patch(project, **fields)
    if "hash" not in fields:
        patch.hash = hashlib.sha1(f"{patch.pk}".encode()).hexdigest()
        patch.save(update_fields=["hash"])
    return patch


@pytest.fixture
def api():
    """An anonymous client for the latest version (/api/1.4/)."""
    return ApiClient("1.4")


@pytest.fixture
def client_for():
    """client_for(user, version="1.4", auth="token") → an authenticated ApiClient."""

    def make(user=None, version: str | None = "1.4", auth: str = "token") -> ApiClient:
        client = ApiClient(version)
        if user is None:
            return client
        return {
            "token": client.token_auth,
            "basic": client.basic_auth,
            "session": client.session_auth,
        }[auth](user)

    return make


@pytest.fixture
def delegate_user(project):
    """A second maintainer of the project, used as a delegate."""
    user = make_user("delegate", first_name="Dee", last_name="Legate")
    project.maintainers.add(user)
    return user


@pytest.fixture
def world(project, submitter, maintainer):
    """A project with a 2-patch series and cover, a loose patch, and another project."""
    series = make_series(
        project, submitter=submitter, name="a fine series", total=2, version=2, date=T0
    )
    cover = make_cover(
        project,
        submitter=submitter,
        name="[v2,0/2] a fine series",
        msgid="<cover.1@example.com>",
        date=T0,
        headers="Message-Id: <cover.1@example.com>\nSubject: [PATCH v2 0/2] a fine series\n",
    )
    series.cover = cover
    series.save(update_fields=["cover"])
    p1 = api_patch(
        project,
        n=1,
        name="[v2,1/2] first change",
        msgid="<p1@example.com>",
        submitter=submitter,
        series=series,
        number=1,
        headers="Message-Id: <p1@example.com>\nSubject: [PATCH v2 1/2] first change\n"
        "Received: from a\nReceived: from b\n",
    )
    p2 = api_patch(
        project,
        n=2,
        name="[v2,2/2] second change",
        msgid="<p2@example.com>",
        submitter=submitter,
        series=series,
        number=2,
    )
    other_person = make_person("other@example.org", name="Olive Other")
    loose = api_patch(project, n=3, name="[RFC] loose idea", submitter=other_person)
    other_project = make_project("other", name="Other")
    elsewhere = api_patch(other_project, n=4, name="elsewhere", submitter=other_person)
    return {
        "project": project,
        "other_project": other_project,
        "series": series,
        "cover": cover,
        "patches": [p1, p2, loose, elsewhere],
        "p1": p1,
        "p2": p2,
        "loose": loose,
        "elsewhere": elsewhere,
        "other_person": other_person,
    }


@pytest.fixture
def bundles(world, maintainer, stranger):
    public = make_bundle(maintainer, [world["p2"], world["p1"]], name="public-one", public=True)
    private = make_bundle(maintainer, [world["loose"]], name="private-one", public=False)
    strangers = make_bundle(stranger, [world["p1"]], name="strangers", public=False)
    return {"public": public, "private": private, "strangers": strangers}


def state(slug: str) -> State:
    return State.objects.get(slug=slug)


def events_of(category: str, **filters):
    return list(Event.objects.filter(category=category, **filters).order_by("id"))
