"""Every list endpoint runs a fixed number of SQL queries, whatever the page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.checks.models import Check
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import Patch, PatchTag
from apps.patches.services import patch_update
from apps.projects.models import Tag
from tests.api.conftest import api_patch
from tests.factories import (
    make_bundle,
    make_check,
    make_cover,
    make_patch_comment,
    make_person,
    make_series,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _token_use_recorded_once(monkeypatch):
    # A token's last use is written at most once a minute; keep that write out of the counts.
    monkeypatch.setattr("apps.api.auth.LAST_USED_RESOLUTION", timedelta(days=1))


def grow(project, maintainer, n: int) -> None:
    """Add n of everything, each with the relations its JSON embeds."""
    acked = Tag.objects.get(name="Acked-by")
    for i in range(n):
        person = make_person(name=f"Person {i}", user=make_user() if i % 2 else None)
        series = make_series(project, submitter=person, total=2)
        cover = make_cover(project, submitter=person)
        series.cover = cover
        series.save()
        patches = [
            api_patch(project, n=i, submitter=person, series=series, number=k, delegate=maintainer)
            for k in (1, 2)
        ]
        if i:
            series.dependencies.add(series.__class__.objects.exclude(pk=series.pk).first())
        PatchTag.objects.create(patch=patches[0], tag=acked, count=1)
        make_check(patches[0], maintainer, state=Check.FAIL)
        make_patch_comment(patches[0], headers="Subject: Re: x\n")
        patch_update(patch=patches[0], actor=maintainer, related=[patches[1]])
        make_bundle(maintainer, patches, public=True)
        event_record(category=Event.SERIES_CREATED, project=project, series=series)
        project.maintainers.add(make_user())


LISTS = [
    "patches/",
    "covers/",
    "series/",
    "bundles/",
    "events/",
    "projects/",
    "people/",
    "users/",
]


def queries_per_list(client) -> dict[str, int]:
    counts = {}
    for path in LISTS:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, {"per_page": 100})
        assert response.status_code == 200, path
        counts[path] = len(ctx.captured_queries)
    return counts


def test_list_query_counts_do_not_grow_with_the_page(project, maintainer, client_for):
    client = client_for(maintainer)
    client.get("")
    grow(project, maintainer, 2)
    small = queries_per_list(client)
    grow(project, maintainer, 8)
    large = queries_per_list(client)
    assert large == small
    # And they are few: auth, count, page, and one per kind of embedded list.
    assert max(large.values()) <= 7, large


def test_patch_subresource_lists_are_constant(project, maintainer, client_for):
    client = client_for(maintainer)
    client.get("")
    patch = api_patch(project)
    for _ in range(2):
        make_check(patch, maintainer)
        make_patch_comment(patch, headers="Subject: Re: x\n")
    counts = []
    for extra in (0, 10):
        for _ in range(extra):
            make_check(patch, make_user())
            make_patch_comment(patch, headers="Subject: Re: x\n")
        with CaptureQueriesContext(connection) as checks:
            client.get(f"patches/{patch.id}/checks/")
        with CaptureQueriesContext(connection) as comments:
            client.get(f"patches/{patch.id}/comments/")
        counts.append((len(checks.captured_queries), len(comments.captured_queries)))
    assert counts[0] == counts[1]


def test_list_queries_do_not_depend_on_a_next_page(project, maintainer, client_for):
    """A page with a next page (whose rel="last" needs the list's length) costs the same
    queries as one without: the length is counted in the statement finding the page."""
    client = client_for(maintainer)
    client.get("")
    grow(project, maintainer, 3)
    word = Patch.objects.filter(project=project).first().name.split()[1]  # "change"
    for path, params in [
        ("patches/", {}),
        ("patches/", {"q": word}),
        ("series/", {}),
        ("events/", {}),
    ]:
        counts, links = [], []
        for per_page in (1, 100):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, {**params, "per_page": per_page})
            assert response.status_code == 200, path
            counts.append(len(ctx.captured_queries))
            links.append(response.headers.get("Link", ""))
        assert 'rel="next"' in links[0] and 'rel="next"' not in links[1], (path, links)
        assert counts[0] == counts[1], (path, params, counts)
