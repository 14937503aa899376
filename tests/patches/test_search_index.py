"""The full-text search index (on the stored search document) serves free-word searches on
PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.patches.models import Patch
from apps.patches.search import FullTextMatch

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text index is PostgreSQL's")
def test_postgresql_uses_the_fulltext_index():
    # A word's full-text matches are collected by this query before the list is read.
    matches = Patch.objects.order_by().filter(FullTextMatch("quokka")).values("pk")
    sql, params = matches.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patch_search_document" in plan
