"""Lists count a page's checks in the database (check_summaries); the result must be what
checks_latest() makes of every check row, as a patch's page shows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import Check
from apps.checks.selectors import check_state_combined, check_summaries, checks_latest
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

    found = check_summaries(ids)

    for pk in ids:
        latest = checks_latest(Check.objects.filter(patch_id=pk))
        assert found[pk]["state"] == check_state_combined(c.state for c in latest)
        assert found[pk]["total"] == len(latest)
    assert [found[pk]["state"] for pk in ids] == ["success", "fail", "warning", "pending"]
    assert found[mixed.pk]["counts"] == {"pending": 0, "success": 1, "warning": 1, "fail": 0}
    assert found[none.pk]["total"] == 0
