"""What keeps the REST lists fast at scale, without changing what they answer.

Pages are found by id first (then loaded by id), long lists have their length
cached instead of counted per request, and project/state filters resolve to
ids so the list indexes serve them. These tests pin the answers and the query
counts; the speed itself is measured by ./dev bench.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apps.api import support as api_support
from tests.factories import default_state, make_patch, make_project

BASE = timezone.now() - dt.timedelta(days=30)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [item["id"] for item in response.json()]


def last_page(response) -> int:
    link = response.headers.get("Link", "")
    for part in link.split(","):
        if 'rel="last"' in part:
            match = re.search(r"[?&]page=(\d+)", part)
            return int(match.group(1)) if match else 1
    return 1


@pytest.fixture
def many(project):
    """23 patches of the project (dates out of id order, some archived or accepted)."""
    other = make_project("other")
    accepted = default_state("accepted")
    made = []
    for n in range(23):
        fields = {"date": BASE + dt.timedelta(hours=(n * 7) % 23)}
        if n % 5 == 0:
            fields["archived"] = True
        if n % 4 == 0:
            fields["state"] = accepted
        made.append(make_patch(project, name=f"patch {n}", **fields))
    make_patch(other, name="patch elsewhere")
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["", "-date", "name", "-id"])
def test_pages_are_the_list_cut_in_order(many, order):
    client = Client()
    url = "/api/1.4/patches/?project=demo&per_page=5" + (f"&order={order}" if order else "")
    everything = ids(client.get(url.replace("per_page=5", "per_page=100")))
    assert len(everything) == 23
    pages = []
    for page in range(1, 6):
        pages += ids(client.get(f"{url}&page={page}"))
    assert pages == everything
    assert client.get(f"{url}&page=6").status_code == 404


@pytest.mark.django_db
def test_project_and_state_filters_by_name_or_id(many, project):
    client = Client()
    new_unarchived = sorted(p.pk for p in many if p.state.slug == "new" and not p.archived)
    for value in ("demo", "DEMO", str(project.pk)):
        url = f"/api/1.4/patches/?project={value}&state=New&archived=false&per_page=100"
        assert ids(client.get(url)) == new_unarchived
    assert ids(client.get("/api/1.4/patches/?project=nope")) == []
    assert ids(client.get("/api/1.4/patches/?project=demo&state=nope")) == []
    assert len(ids(client.get("/api/1.4/patches/?project=demo&project=other&per_page=100"))) == 24


@pytest.mark.django_db
def test_queries_do_not_depend_on_page_size_or_depth(many, django_assert_num_queries):
    client = Client()
    url = "/api/1.4/patches/?project=demo&state=new&archived=false"
    with django_assert_num_queries(6) as first:
        ids(client.get(f"{url}&per_page=2"))
    for query in (f"{url}&per_page=10", f"{url}&per_page=2&page=4"):
        with django_assert_num_queries(len(first.captured_queries)):
            ids(client.get(query))


@pytest.mark.django_db
def test_long_lists_cache_their_length_short_ones_count_every_time(many, project, monkeypatch):
    monkeypatch.setattr(api_support, "COUNT_CACHE_FROM", 10)
    client = Client()
    url = "/api/1.4/patches/?project=demo&per_page=5"
    assert last_page(client.get(url)) == 5  # 23 patches
    for n in range(5):
        make_patch(project, name=f"late {n}")
    # 28 now: the cached length still says 23 until it expires.
    assert last_page(client.get(url)) == 5
    assert ids(client.get(f"{url}&page=6"))  # the pages themselves are never stale
    cache.clear()
    assert last_page(client.get(url)) == 6
    # Short lists are counted exactly every time.
    short = "/api/1.4/patches/?project=other&per_page=1"
    assert last_page(client.get(short)) == 1
    make_patch(make_project_other(), name="second elsewhere")
    assert last_page(client.get(short)) == 2


def make_project_other():
    from apps.projects.models import Project

    return Project.objects.get(linkname="other")
