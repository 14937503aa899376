"""Events know nothing of who listens: listeners registered with events_listen hear of
every write, inside its transaction, with the ids set."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from apps.events import services
from apps.events.models import Event
from apps.events.services import event_record, events_batched, events_listen

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """A listener of our own, registered for this test only."""
    calls: list[list[tuple[int, str, bool]]] = []
    monkeypatch.setattr(services, "_listeners", list(services._listeners))
    events_listen(
        lambda events: calls.append(
            [(e.pk, e.category, connection.in_atomic_block) for e in events]
        )
    )
    return calls


def test_a_listener_hears_each_event_inside_its_transaction(project, heard):
    event = event_record(category=Event.PATCH_CREATED, project=project)

    assert heard == [[(event.pk, Event.PATCH_CREATED, True)]]
    assert event.pk is not None


def test_a_batch_is_heard_once_in_the_order_recorded(project, heard):
    with transaction.atomic(), events_batched():
        first = event_record(category=Event.SERIES_CREATED, project=project)
        second = event_record(category=Event.COVER_CREATED, project=project)
        assert heard == []  # written when the block ends

    assert heard == [
        [(first.pk, Event.SERIES_CREATED, True), (second.pk, Event.COVER_CREATED, True)]
    ]
    assert first.pk < second.pk


def test_nothing_is_written_or_heard_when_the_batch_raises(project, heard):
    with pytest.raises(RuntimeError), transaction.atomic(), events_batched():
        event_record(category=Event.PATCH_CREATED, project=project)
        raise RuntimeError

    assert heard == []
    assert not Event.objects.exists()
