"""patches_state_set: many patches' state changed at once, as patch_update would one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.events.models import Event
from apps.events.services import events_batched
from apps.patches.models import Patch, PatchChangeNotification
from apps.patches.services import patch_update, patches_state_set
from tests.factories import default_state, make_patch, make_person, make_project, make_user

pytestmark = pytest.mark.django_db


def patches_of(project, count=4):
    """count patches, the third already Superseded, dated so their order is not their ids'."""
    submitter = make_person()
    start = timezone.now()
    patches = []
    for n in range(count):
        state = default_state("superseded" if n == 2 else "new")
        date = start - dt.timedelta(minutes=n)  # newest first: the ids run the other way
        patches.append(make_patch(project, submitter=submitter, state=state, date=date))
    return patches


def recorded(project) -> list[tuple]:
    """The project's events and pending notifications, by the patch's place in its list."""
    ids = Patch.objects.filter(project=project).values_list("pk", flat=True)
    order = {pk: n for n, pk in enumerate(ids)}
    events = [
        (e.category, order[e.patch_id], e.previous_state_id, e.current_state_id, e.actor_id)
        for e in Event.objects.filter(project=project).order_by("id")
    ]
    notes = sorted(
        (order[n.patch_id], n.orig_state_id)
        for n in PatchChangeNotification.objects.filter(patch__project=project)
    )
    states = list(Patch.objects.filter(project=project).values_list("state__slug", flat=True))
    return [events, notes, states]


def test_the_same_events_notifications_and_states_as_one_by_one():
    maintainer = make_user()
    superseded = default_state("superseded")
    one_by_one = make_project(send_notifications=True)
    for patch in Patch.objects.filter(pk__in=[p.pk for p in patches_of(one_by_one)]):
        if patch.state_id != superseded.pk:
            patch_update(patch=patch, actor=maintainer, state=superseded)
    together = make_project(send_notifications=True)
    patches_of(together)
    changed = patches_state_set(
        patches=Patch.objects.filter(project=together), state=superseded, actor=maintainer
    )
    assert changed == 3
    expected = recorded(one_by_one)
    assert [len(part) for part in expected] == [3, 3, 4]
    assert recorded(together) == expected


def test_one_update_for_all_of_them():
    project = make_project(send_notifications=False)
    patches_of(project, count=6)
    superseded = default_state("superseded")
    with CaptureQueriesContext(connection) as queries, events_batched():
        patches_state_set(
            patches=Patch.objects.filter(project=project), state=superseded, actor=None
        )
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    on_patches = [q for q in queries.captured_queries if '"patches_patch"' in q["sql"]]
    assert len(on_patches) == 4  # their ids, the lock, the read and the update
    assert set(Patch.objects.filter(project=project).values_list("state__slug", flat=True)) == {
        "superseded"
    }


def test_nothing_to_change_writes_nothing():
    project = make_project()
    patch = make_patch(project, state=default_state("superseded"))
    assert patches_state_set(patches=[patch], state=default_state("superseded"), actor=None) == 0
    assert patches_state_set(patches=[], state=default_state("superseded"), actor=None) == 0
    assert not Event.objects.filter(project=project).exists()
