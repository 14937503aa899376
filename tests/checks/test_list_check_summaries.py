"""Lists count a page's checks in the database (patch_check_summaries); the result must
be what apps.checks.selectors.check_summaries() computes from every check row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import Check
from apps.checks.selectors import check_summaries
from apps.patches.selectors import patch_check_summaries
from tests.factories import make_check, make_patch, make_user

pytestmark = pytest.mark.django_db


def test_page_check_summaries_are_the_latest_check_per_context_and_user(project, maintainer):
    ci = make_user()
    now = timezone.now()
    fixed, failing, mixed, none = (make_patch(project) for _ in range(4))
    # A failure fixed later by the same CI in the same context no longer counts.
    make_check(fixed, ci, context="build", state=Check.FAIL, date=now - timedelta(hours=1))
    make_check(fixed, ci, context="build", state=Check.SUCCESS, date=now)
    # The same context from another user counts apart.
    make_check(failing, ci, context="build", state=Check.SUCCESS, date=now)
    make_check(failing, maintainer, context="build", state=Check.FAIL, date=now)
    # Same date: the later row wins; other contexts add up.
    make_check(mixed, ci, context="test", state=Check.PENDING, date=now)
    make_check(mixed, ci, context="test", state=Check.WARNING, date=now)
    make_check(mixed, ci, context="lint", state=Check.SUCCESS, date=now - timedelta(days=1))
    ids = [fixed.pk, failing.pk, mixed.pk, none.pk]

    found = patch_check_summaries(ids)

    assert found == check_summaries(ids)
    assert [found[pk]["state"] for pk in ids] == ["success", "fail", "warning", "pending"]
    assert found[mixed.pk]["counts"] == {"pending": 0, "success": 1, "warning": 1, "fail": 0}
    assert found[none.pk]["total"] == 0
