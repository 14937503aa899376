"""A batch reads its thread lookups once and writes its mails' rows and tag counts at its end
(BatchLookups, apps/mail/arrival.py): what it stores is still what one mail at a time
stores, for the orders where a mail depends on one earlier in the same batch, and it costs
a few statements a batch instead of one a mail per lookup."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from apps.mail import arrival, batch
from apps.mail.archive import archive_ingest
from apps.mail.arrival import BatchLookups, thread_lookup
from apps.mail.intake import peek_msgid
from apps.patches.models import Patch
from tests.mail.test_batch import (
    assert_same,
    failing_for,
    mixed_archive,
    outcome,
    reference,
    write_mbox,
)
from tests.mail.test_batch import projects as projects  # noqa: F401 (fixture)
from tests.mail.test_batch import pytestmark as batch_marks
from tests.mail.test_batch import small_batches as small_batches  # noqa: F401 (fixture)
from tests.mails import git_mails, read

pytestmark = batch_marks

V1_COVER, *V1 = git_mails("v1")
V2_COVER, *V2 = git_mails("v2")
REVIEWED, ACKED = read("replies/reviewed.eml"), read("replies/acked.eml")
REPLY_TO_ACKED, COVER_TESTED = read("replies/reply-to-acked.eml"), read("replies/cover-tested.eml")


def tricky_order() -> list[bytes]:
    """One batch where later mails depend on earlier ones of it: replies before the patches
    they answer, v2 before v1, the cover letters last, a reply to a reply in between."""
    return [
        REVIEWED,
        REPLY_TO_ACKED,
        ACKED,
        *(p.read_bytes() for p in V2),
        V1[1].read_bytes(),
        COVER_TESTED,
        V1[0].read_bytes(),
        V2_COVER.read_bytes(),
        V1[2].read_bytes(),
        V1_COVER.read_bytes(),
    ]


@pytest.fixture
def lookups_checked(monkeypatch):
    """Each of the batch's lookups is compared with the database's answer (plus the mails
    whose rows wait for the batch's INSERT): the index is kept in step with the writes."""
    real = BatchLookups.lookup
    checked = {"lookups": 0}

    def lookup(self, project, msgid, refs):
        got = real(self, project, msgid, refs)
        expected = thread_lookup(project, msgid, refs)
        expected.arrived |= self._stored_unwritten(project, refs)
        assert _shape(got) == _shape(expected), msgid
        checked["lookups"] += 1
        return got

    monkeypatch.setattr(BatchLookups, "lookup", lookup)
    return checked


def _shape(thread) -> tuple:
    awaited = sorted(
        (a.msgid, a.kind, a.series_id or 0, a.mail_id or 0, a.position) for a in thread.awaited
    )
    return awaited, thread.members, thread.arrived


def test_mails_depending_on_earlier_ones_of_the_same_batch(
    projects, frob, tmp_path, lookups_checked
):  # noqa: F811
    path, mails = write_mbox(tmp_path / "tricky.mbox", tricky_order())
    expected = reference(mails)
    assert len(expected["series"]) == 2 and expected["comments"]

    archive_ingest(path)  # one batch: BATCH is larger than the archive
    assert_same(outcome(), expected)
    assert lookups_checked["lookups"] == len(mails)


def test_a_failing_mail_in_the_middle_of_a_batch(projects, frob, monkeypatch, tmp_path):  # noqa: F811
    path, mails = write_mbox(tmp_path / "tricky.mbox", tricky_order())
    victim = {peek_msgid(V1[1].read_bytes())}
    failing_for(monkeypatch, victim)
    expected = reference(mails)
    assert any(status == "failed" for _, status, _ in expected["reasons"]["all"])

    failing_for(monkeypatch, victim)
    archive_ingest(path)
    assert_same(outcome(), expected)


def count_statements(path) -> int:
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        archive_ingest(path)
    return len(sent)


# Statements of the 50-mail batch below (PostgreSQL): 235 with the batch's lookups and
# deferred writes (one of them its settings: _batch_session); 305 when each mail looks
# its thread up itself, 277 when each mail's row is inserted on its own, 248 when tags
# are recounted as each mail comes, 264 when the thread index's rows are written as each
# mail comes.
MAX_STATEMENTS = 240


def test_a_batch_of_50_mails_costs_few_statements(projects, frob, tmp_path):  # noqa: F811
    path, mails = write_mbox(tmp_path / "fifty.mbox", mixed_archive()[-50:])
    statements = count_statements(path)
    assert statements <= MAX_STATEMENTS, statements


@pytest.mark.parametrize("removed", ["lookups", "inserts", "tags", "references"])
def test_the_statement_bound_needs_the_batch(projects, frob, tmp_path, monkeypatch, removed):  # noqa: F811
    # The bound above is not loose: without the batch's prefetch (or deferred rows) it fails.
    if removed == "lookups":
        monkeypatch.setattr(BatchLookups, "lookup", arrival.LiveLookups.lookup)
    elif removed == "inserts":
        monkeypatch.setattr(BatchLookups, "insert", arrival.LiveLookups.insert)
    elif removed == "tags":
        for name in ("tags_new_patch", "tags_patch", "tags_series"):
            monkeypatch.setattr(BatchLookups, name, getattr(arrival.LiveLookups, name))
    else:
        monkeypatch.setattr(batch, "references_deferred", contextlib.nullcontext)
    path, mails = write_mbox(tmp_path / "fifty.mbox", mixed_archive()[-50:])
    statements = count_statements(path)
    assert statements > MAX_STATEMENTS


def test_a_batch_binds_its_values_on_the_server(projects, tmp_path, monkeypatch):  # noqa: F811
    # Its statements repeat hundreds of times: the values travel apart from the text (no
    # escaping of each mail's bytes by Python, and psycopg prepares what repeats). Outside
    # a batch, Django's client-side binding is back.
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    kinds: dict[str, set[type]] = {}

    def record(execute, sql, params, many, context):
        table = sql.split('"')[1] if sql.startswith("INSERT INTO") else ""
        kinds.setdefault(table, set()).add(type(context["cursor"].cursor))
        return execute(sql, params, many, context)

    modes = []
    real_flush = BatchLookups.flush

    def flush(self):  # at the end of each batch, inside its transaction
        with connection.cursor() as cursor:
            cursor.execute("SHOW default_toast_compression")
            modes.append(cursor.fetchone()[0])
        real_flush(self)

    monkeypatch.setattr(BatchLookups, "flush", flush)
    path, mails = write_mbox(tmp_path / "ten.mbox", mixed_archive()[:10])
    with connection.execute_wrapper(record):
        archive_ingest(path)
    assert kinds["patches_patch"] == {ServerBindingCursor}
    assert kinds["mail_incomingmail"] == {ServerBindingCursor}
    # The mail's text compressed by lz4 (this server has it).
    assert modes and set(modes) == {"lz4"}
    assert connection.connection.cursor_factory is Cursor
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_toast_compression")
        assert cursor.fetchone()[0] == "pglz"


def test_statistics_follow_a_load_into_empty_tables(projects, small_batches, tmp_path):  # noqa: F811
    # PostgreSQL plans with the sizes it last analyzed: a load that grows the tables from
    # nothing must analyze them as it goes (statistics_refresh), not wait for autovacuum
    # (kept off here, so only the batches can do it).
    table = Patch._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        cursor.execute(f'ANALYZE "{table}"')
    try:
        path, mails = write_mbox(tmp_path / "all.mbox", mixed_archive())
        archive_ingest(path)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            (estimated,) = cursor.fetchone()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" RESET (autovacuum_enabled)')
    stored = Patch.objects.count()
    assert stored >= 20
    # Analyzed last after the 8th of its batches: at least a quarter of what is stored.
    assert stored / 4 <= estimated <= stored
