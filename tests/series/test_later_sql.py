"""The fast path of a new series' later revisions (apps/series/sql.py) finds what the plain
Django path finds, in the same order, for every kind of evidence."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.series.models import Series
from apps.series.revisions import _find_later
from tests.factories import make_series
from tests.mails import deliver_all, git_mails

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"),
]


def found(series: Series, threaded: dict[int, int], fast: bool) -> list[tuple]:
    return [
        (link.series.pk, link.partial, link.by_reply)
        for link in _find_later(series, True, threaded, fast=fast)
    ]


def test_fast_later_revisions_equal_the_plain_ones(frob):
    deliver_all([*git_mails("v1"), *git_mails("v2")])
    every = list(Series.objects.order_by("pk"))
    assert len(every) >= 2
    results = []
    for links in ("as delivered", "unlinked", "linked elsewhere"):
        if links == "unlinked":  # later revisions that point at nothing (yet)
            Series.objects.update(previous_revision=None)
        if links == "linked elsewhere":  # to another series than the one they answer
            for later in Series.objects.filter(version__gt=1):
                other = make_series(frob, submitter=later.submitter, version=1, date=later.date)
                Series.objects.filter(pk=later.pk).update(previous_revision=other)
        for series in Series.objects.order_by("pk"):
            for threaded in ({}, {other.pk: 0 for other in every if other.pk != series.pk}):
                plain = found(series, threaded, fast=False)
                assert found(series, threaded, fast=True) == plain, (series, threaded)
                results.append((links, plain))
    # Some evidence did name a later revision, also one linked to another series.
    assert any(plain for _, plain in results)
    assert any(plain for links, plain in results if links == "linked elsewhere")


def test_no_evidence_asks_nothing(frob, django_assert_num_queries):
    deliver_all(git_mails("v1"))
    series = Series.objects.first()
    series.name, series.change_id = "", None
    with django_assert_num_queries(0):
        assert _find_later(series, True, {}) == []


def test_the_fast_path_is_one_hand_written_statement(frob, django_assert_num_queries):
    deliver_all(git_mails("v1"))
    series = Series.objects.first()
    with django_assert_num_queries(1) as captured:
        _find_later(series, True, {})
    assert "LEFT JOIN series_series p" in captured.captured_queries[0]["sql"]
