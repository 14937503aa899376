"""Concurrent maintainers on one patch (PostgreSQL): the later write waits, then wins cleanly."""

from __future__ import annotations

import os
import threading

import psycopg
import pytest
from django.db import connection

from apps.events.models import Event
from apps.patches.models import Patch
from apps.patches.services import patch_update
from tests.factories import default_state, make_patch, make_project

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL): row locks between two connections",
    ),
    pytest.mark.django_db(transaction=True),
]


def other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=False,
    )


def test_a_state_change_waiting_on_another_wins_after_it(maintainer):
    patch = make_patch(make_project("conc", maintainers=[maintainer]))
    accepted, rejected = default_state("accepted"), default_state("rejected")
    other = other_connection()
    result: dict = {}
    try:
        # Another maintainer's change holds the row (its state moves under our feet).
        other.execute(
            "UPDATE patches_patch SET state_id = %s WHERE id = %s", [accepted.pk, patch.pk]
        )

        def ours():
            try:
                result["patch"] = patch_update(patch=patch, actor=maintainer, state=rejected)
            except Exception as exc:  # reported below
                result["error"] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=ours)
        thread.start()
        thread.join(2)  # it waits for the row lock
        assert thread.is_alive(), result
        other.commit()
        thread.join(60)
    finally:
        other.close()
    assert "error" not in result, repr(result.get("error"))
    patch = Patch.objects.select_related("state").get(pk=patch.pk)
    assert patch.state.slug == "rejected"
    # Our event starts from the state the other change left, not the one we first read.
    event = Event.objects.get(patch=patch, category=Event.PATCH_STATE_CHANGED)
    assert (event.previous_state.slug, event.current_state.slug) == ("accepted", "rejected")
