"""The REST lists' light rows (apps/patches/sql.py, apps/series/sql.py) give the same
JSON, in the same number of queries, as the plain path reading model instances."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.patches.selectors import patch_summaries
from apps.projects.models import Person
from apps.series import selectors as series_selectors
from apps.series.selectors import series_patches, series_summaries
from tests.api.conftest import api_patch
from tests.api.schema import VERSIONS
from tests.api.test_query_counts import grow
from tests.factories import make_person, make_series

pytestmark = pytest.mark.django_db

PLAIN = {
    "patches/": [("apps.api.patches.patch_summaries", partial(patch_summaries, fast=False))],
    "series/": [
        (series_selectors, "series_patches", partial(series_patches, fast=False)),
        ("apps.api.series.series_summaries", partial(series_summaries, fast=False)),
    ],
}


def _read(client, path: str) -> tuple[list, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, {"per_page": 100})
    assert response.status_code == 200, path
    return response.json(), len(ctx.captured_queries)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", list(PLAIN))
def test_light_rows_give_what_model_instances_give(
    project, maintainer, client_for, monkeypatch, path, version
):
    grow(project, maintainer, 3)
    # The nullable relations left empty: no delegate, no series, no cover, no name.
    nameless = make_person()
    Person.objects.filter(pk=nameless.pk).update(name="")
    api_patch(project, n=99, submitter=nameless)
    series = make_series(project, submitter=nameless, total=3)
    api_patch(project, n=98, series=series, number=1)
    client = client_for(maintainer, version=version)
    client.get("")

    fast, fast_queries = _read(client, path)
    for target, *plain in PLAIN[path]:
        monkeypatch.setattr(target, *plain)
    slow, slow_queries = _read(client, path)

    assert len(fast) >= 4
    assert fast == slow
    assert fast_queries == slow_queries
