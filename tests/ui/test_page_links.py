"""Links on the pages lead somewhere real: downloads, pwclientrc, series, bundles."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_bundle, make_cover, make_patch, make_series, make_user

pytestmark = pytest.mark.django_db


def links(body: str, pattern: str) -> list[str]:
    return re.findall(rf'href="([^"]*{pattern}[^"]*)"', body)


def test_download_links_on_patch_cover_series_and_bundle_pages(client, project, stranger):
    cover = make_cover(project)
    series = make_series(project, cover=cover)
    patch = make_patch(project, series=series, number=1, msgid="<a/b@example.com>")
    make_bundle(stranger, [patch], name="mine")
    client.force_login(stranger)
    pages = [
        reverse("patch-detail", args=["demo", patch.url_msgid]),
        reverse("cover-detail", args=["demo", cover.url_msgid]),
        reverse("series-detail", args=[series.pk]),
        reverse("bundle-detail", args=["stranger", "mine"]),
        reverse("user-bundles"),
        reverse("project-detail", args=["demo"]),
    ]
    found = set()
    for page in pages:
        body = client.get(page).content.decode()
        found.update(links(body, "mbox/") + links(body, "raw/") + links(body, "pwclientrc/"))
    assert len(found) == 6, found  # patch mbox + raw, cover, series and bundle mbox, pwclientrc
    for url in sorted(found):
        response = client.get(url)
        assert response.status_code == 200, url


def test_list_counts_are_bounded(client, project):
    for _ in range(3):
        make_patch(project)
    client.force_login(make_user("pager", items_per_page=2))  # a page 2 to count up to
    with CaptureQueriesContext(connection) as ctx:
        client.get("/project/demo/list/", {"page": 2})
    counts = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and "checks_check" not in q["sql"]  # not the rows' checks
    ]
    assert counts, "page 2 needs a count"
    for sql in counts:
        assert "LIMIT" in sql.upper(), sql
