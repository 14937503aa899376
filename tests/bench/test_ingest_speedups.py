"""What makes parsearchive fast without changing what it stores."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.mail.archive import asynchronous_commits


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_archive_loads_commit_asynchronously_and_restore_the_setting():
    if connection.vendor != "postgresql":
        with asynchronous_commits():
            pass  # nothing to switch on other databases
        return
    before = setting()
    with asynchronous_commits():
        assert setting() == "off"
    assert setting() == before
    with pytest.raises(RuntimeError):
        with asynchronous_commits():
            raise RuntimeError("a failed load")
    assert setting() == before
