"""Recording events: one row per change, written with the change and gone with it."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.events.models import Event
from apps.events.services import event_record
from tests.factories import default_state, make_patch

pytestmark = pytest.mark.django_db


def test_an_event_is_a_row_with_its_category_project_actor_and_refs(project, maintainer):
    patch = make_patch(project)
    event = event_record(
        category=Event.PATCH_STATE_CHANGED,
        project=project,
        actor=maintainer,
        patch=patch,
        previous_state=default_state("new"),
        current_state=default_state("accepted"),
    )

    row = Event.objects.get(pk=event.pk)
    assert (row.category, row.project, row.actor, row.patch) == (
        "patch-state-changed",
        project,
        maintainer,
        patch,
    )
    assert (row.previous_state.slug, row.current_state.slug) == ("new", "accepted")


def test_a_change_rolled_back_leaves_no_event(project):
    patch = make_patch(project)
    before = Event.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
        raise RuntimeError("the change fails after its event was recorded")

    assert Event.objects.count() == before
