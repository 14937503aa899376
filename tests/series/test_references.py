"""The thread index's rows written together (apps/series/references.py) come out as written
one by one, and a reader of them sees every row added before it."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.mail.arrival import thread_lookup
from apps.series.models import AwaitedMessage, SeriesReference
from apps.series.references import references_add, references_at_once, references_deferred
from tests.factories import make_project, make_series

pytestmark = pytest.mark.django_db


def member(project, series, msgid="<m@x>"):
    return SeriesReference(project=project, series=series, msgid=msgid)


def thread_row(project, series, msgid="<parent@x>", position=0):
    kind = AwaitedMessage.THREAD
    return AwaitedMessage(project=project, msgid=msgid, kind=kind, series=series, position=position)


def test_rows_wait_for_the_end_of_the_block_and_come_out_as_one_by_one():
    project = make_project()
    first, second = make_series(project), make_series(project)
    with references_deferred():
        references_add([member(project, first), thread_row(project, first)])
        # The same Message-ID in a later series (it moves), the same awaited row again.
        references_add([member(project, second), thread_row(project, first)])
        assert not SeriesReference.objects.exists()
        assert not AwaitedMessage.objects.exists()
    assert list(SeriesReference.objects.values_list("msgid", "series")) == [("<m@x>", second.pk)]
    assert AwaitedMessage.objects.count() == 1


def test_written_together_in_two_statements():
    project = make_project()
    series = make_series(project)
    with CaptureQueriesContext(connection) as queries, references_deferred():
        for n in range(10):
            msgid = f"<{n}@x>"
            references_add([member(project, series, msgid), thread_row(project, series, msgid)])
    assert len(queries.captured_queries) == 2
    assert SeriesReference.objects.count() == AwaitedMessage.objects.count() == 10


def test_a_reader_sees_what_waits():
    project = make_project()
    series = make_series(project)
    with references_deferred():
        references_add([member(project, series, "<parent@x>"), thread_row(project, series)])
        thread = thread_lookup(project, "<parent@x>", ["<parent@x>"])
    assert thread.members == {"<parent@x>": series.pk}
    assert [(a.msgid, a.series_id) for a in thread.awaited] == [("<parent@x>", series.pk)]


def test_nothing_is_written_when_the_block_raises():
    project = make_project()
    series = make_series(project)
    with pytest.raises(RuntimeError), references_deferred():
        references_add([member(project, series)])
        raise RuntimeError("the batch fails")
    assert not SeriesReference.objects.exists()


def test_at_once_inside_a_deferred_block():
    # A mail in a savepoint of its own: its rows go with its savepoint, not after it.
    project = make_project()
    series = make_series(project)
    with references_deferred():
        references_add([member(project, series, "<before@x>")])
        with references_at_once():
            assert SeriesReference.objects.count() == 1  # what waited went first
            with transaction.atomic():
                references_add([member(project, series, "<alone@x>")])
                assert SeriesReference.objects.count() == 2
                transaction.set_rollback(True)
        assert SeriesReference.objects.count() == 1
    assert list(SeriesReference.objects.values_list("msgid", flat=True)) == ["<before@x>"]
