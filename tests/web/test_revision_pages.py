"""Pages say when a newer version of a series exists, and link the revisions and series list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.web.patches.detail import patch_url
from tests.factories import make_patch, make_person, make_series

pytestmark = pytest.mark.django_db

NOTICE = "A newer version of this series exists"


@pytest.fixture
def rerolled(project):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    v1 = make_series(project, submitter=ada, name="Fix the <frobnicator>", version=1)
    v2 = make_series(project, submitter=ada, name="Fix the <frobnicator>", version=2)
    v2.previous_revision = v1
    v2.save()
    old = make_patch(project, series=v1, number=1, submitter=ada, name="[1/1] frob")
    new = make_patch(project, series=v2, number=1, submitter=ada, name="[v2,1/1] frob")
    return v1, v2, old, new


def test_older_series_page_links_the_newer_version(client, rerolled):
    v1, v2, _, _ = rerolled
    body = client.get(reverse("series-detail", args=[v1.pk])).content.decode()
    assert NOTICE in body
    assert f'href="{reverse("series-detail", args=[v2.pk])}">Fix the &lt;frobnicator&gt; v2' in body
    latest = client.get(reverse("series-detail", args=[v2.pk])).content.decode()
    assert NOTICE not in latest
    assert "Previous revision" in latest


def test_older_patch_page_links_the_newer_version(client, rerolled, django_assert_max_num_queries):
    v1, v2, old, new = rerolled
    with django_assert_max_num_queries(30):
        body = client.get(patch_url(old)).content.decode()
    assert NOTICE in body
    assert f'href="{reverse("series-detail", args=[v2.pk])}" rel="successor-version"' in body
    latest = client.get(patch_url(new)).content.decode()
    assert NOTICE not in latest
    assert f'href="{reverse("series-detail", args=[v1.pk])}" rel="predecessor-version"' in latest


def test_project_page_and_patch_list_link_the_series_list(client, project):
    series_list = f'href="{reverse("series-list", args=[project.linkname])}"'
    assert (
        series_list
        in client.get(reverse("project-detail", args=[project.linkname])).content.decode()
    )
    assert (
        series_list in client.get(reverse("patch-list", args=[project.linkname])).content.decode()
    )
