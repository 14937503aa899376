"""The check summaries' SQL fast path counts what the ORM's query counts (apps/checks/sql.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.checks.selectors import check_summaries
from apps.checks.sql import latest_state_counts
from tests.factories import make_check, make_patch, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"),
]


def test_latest_state_counts_fast_and_plain_agree(project):
    now = timezone.now()
    ci, other = make_user("ci"), make_user("other-ci")
    busy, fixed, quiet = make_patch(project), make_patch(project), make_patch(project)
    # busy: build failed then passed (only the pass counts), two users' tests, a warning.
    make_check(busy, ci, context="build", state="fail", date=now - timedelta(minutes=2))
    make_check(busy, ci, context="build", state="success", date=now)
    make_check(busy, ci, context="test", state="pending", date=now)
    make_check(busy, other, context="test", state="fail", date=now)
    make_check(busy, other, context="lint", state="warning", date=now)
    # fixed: the same date twice: the later id counts.
    make_check(fixed, ci, context="build", state="fail", date=now)
    make_check(fixed, ci, context="build", state="success", date=now)
    ids = [busy.pk, fixed.pk, quiet.pk]
    fast = latest_state_counts(ids, fast=True)
    plain = latest_state_counts(ids, fast=False)
    assert fast == plain
    assert fast[busy.pk] == {"success": 1, "pending": 1, "fail": 1, "warning": 1}
    assert fast[fixed.pk] == {"success": 1}
    assert quiet.pk not in fast
    summaries = check_summaries(ids)
    assert summaries[busy.pk]["state"] == "fail" and summaries[busy.pk]["total"] == 4
    assert summaries[quiet.pk] == {
        "state": "pending",
        "counts": {"pending": 0, "success": 0, "warning": 0, "fail": 0},
        "total": 0,
    }
