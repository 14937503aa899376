"""The fast path of a placement's series candidates (apps/series/sql.py) reads what the
plain Django path reads: the series, their patches' numbers, has_later, cover_replies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from apps.series.models import Series
from apps.series.services import _by_markers, candidates_by_id
from tests.mails import deliver_all, git_mails

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"),
]


def _seen(series: Series) -> tuple:
    fields = {f.attname: getattr(series, f.attname) for f in Series._meta.concrete_fields}
    return fields, series.has_later, series.cover_replies, series.numbers


def test_fast_candidates_equal_the_plain_ones(frob):
    # Two revisions (v2 names v1), a reply to v1's cover letter, and an id of no series.
    deliver_all([*git_mails("v1"), "replies/cover-tested.eml", *git_mails("v2")])
    ids = set(Series.objects.values_list("pk", flat=True)) | {10**6}
    assert len(ids) >= 3

    fast = sorted(map(_seen, candidates_by_id(frob, ids, fast=True)), key=repr)
    plain = sorted(map(_seen, candidates_by_id(frob, ids, fast=False)), key=repr)
    assert fast == plain
    assert any(has_later for _, has_later, _, _ in plain)
    assert any(cover_replies for _, _, cover_replies, _ in plain)
    assert all(numbers for _, _, _, numbers in plain)


def test_fast_unthreaded_candidates_equal_the_plain_ones(frob):
    # Unthreaded series (found by markers) and threaded ones of the same submitter.
    deliver_all([*git_mails("unthreaded"), *git_mails("v1")])
    every = list(Series.objects.select_related("submitter"))
    assert any(s.total > 1 for s in every)
    found = []
    for series in every:
        for shift in (dt.timedelta(0), dt.timedelta(days=30)):
            args = (frob, series.submitter, series.date + shift, series.version)
            for number, is_cover in ((1, False), (series.total + 1, False), (0, True)):
                kwargs = {"is_cover": is_cover}
                plain = _by_markers(*args, number, series.total, fast=False, **kwargs)
                fast = _by_markers(*args, number, series.total, fast=True, **kwargs)
                assert (fast and _seen(fast)) == (plain and _seen(plain)), (series, number)
                found.append(plain)
    assert any(found) and not all(found)
