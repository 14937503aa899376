"""Batched ingestion (apps/mail/batch.py) stores exactly what one mail at a time stores.

Each test ingests the same archive twice on PostgreSQL, once one mail a transaction
(the reference: what parsearchive did before batches) and once through the batched,
parallel-parsing path, and compares the two snapshots (tests/mail/snapshot.py).
Batches are made small so their boundaries fall inside series and threads.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.mail import archive, batch, services
from apps.mail.archive import archive_ingest, iter_mbox
from apps.mail.batch import mails_reingest
from apps.mail.context import IngestContext
from apps.mail.intake import mail_store, peek_msgid
from apps.mail.models import IncomingMail
from apps.mail.parallel import parsed_stream
from apps.mail.parse import MailParseError
from apps.mail.services import mail_ingest, mail_store_ingest
from apps.patches.models import Patch
from apps.projects.models import Project
from apps.series.revisions import revisions_supersede_due
from tests.mail.snapshot import reset_ingested, snapshot, snapshot_diff
from tests.mail.test_concurrency import DEMO
from tests.mails import DATA

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def mixed_archive() -> list[bytes]:
    """Every test mail (series and their revisions, covers, replies before and after what
    they answer, pull requests, malformed mail that fails) and the demo archive."""
    mails = [path.read_bytes() for path in sorted(DATA.rglob("*.eml"))]
    return mails + [raw for raw, _ in iter_mbox(DEMO)]


def write_mbox(path, mails: list[bytes]) -> tuple[Path, list[bytes]]:
    """The archive, and its mails as parsearchive reads them (">From " quoting and all)."""
    box = mailbox.mbox(str(path))
    for raw in mails:
        box.add(mailbox.mboxMessage(raw))
    box.flush()
    box.close()
    return path, [raw for raw, _ in iter_mbox(path)]


def one_by_one(mails: list[bytes]) -> None:
    """The reference: one transaction a mail, in order, a Message-ID stored once."""
    context = IngestContext()
    for raw in mails:
        msgid = peek_msgid(raw)
        if msgid and IncomingMail.objects.filter(msgid=msgid, list_id="").exists():
            continue
        mail_store_ingest(raw, context=context)
    revisions_supersede_due()


def outcome() -> dict:
    """The snapshot, and each mail's reason (ids taken out: they differ between runs)."""
    reasons = sorted(
        (msgid, status, re.sub(r"\d+", "N", reason))
        for msgid, status, reason in IncomingMail.objects.values_list("msgid", "status", "reason")
    )
    return _undated({**snapshot(), "reasons": {"all": reasons}})


# Mail without a usable Date: is dated when it arrived, which differs between runs.
ARRIVED_AFTER = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


def _undated(value):
    if isinstance(value, dt.datetime):
        return "arrival" if value > ARRIVED_AFTER else value
    if isinstance(value, dict | Counter):
        return type(value)({k: _undated(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return type(value)(_undated(v) for v in value)
    return value


def assert_same(got: dict, expected: dict) -> None:
    assert got == expected, "\n".join(snapshot_diff(got, expected)[:40])


@pytest.fixture
def projects(frob):
    Project.objects.create(
        linkname="patchwork",
        name="Patchwork",
        listid="patchwork.lists.example.org",
        listemail="patchwork@lists.example.org",
    )


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(archive, "BATCH", 7)
    monkeypatch.setattr(batch, "BATCH", 7)


def reference(mails: list[bytes]) -> dict:
    one_by_one(mails)
    expected = outcome()
    reset_ingested()
    return expected


def test_batched_archive_equals_one_by_one(projects, small_batches, tmp_path):
    path, mails = write_mbox(tmp_path / "mixed.mbox", mixed_archive())
    expected = reference(mails)
    statuses = {status for _, status, _ in expected["reasons"]["all"]}
    assert statuses == {"parsed", "ignored", "failed"}  # the archive exercises every outcome
    assert len(expected["series"]) > 10 and len(expected["comments"]) > 8

    archive_ingest(path)
    assert_same(outcome(), expected)


@pytest.mark.parametrize("seed", [1, 2])
def test_batched_shuffled_archive_equals_one_by_one(projects, small_batches, tmp_path, seed):
    mails = mixed_archive()
    random.Random(seed).shuffle(mails)
    path, mails = write_mbox(tmp_path / "shuffled.mbox", mails)
    expected = reference(mails)

    archive_ingest(path)
    assert_same(outcome(), expected)


def failing_for(monkeypatch, victims: set[str], exc: type[BaseException] = RuntimeError):
    """Make creating the patch of these Message-IDs raise (a bug the mail runs into)."""
    real = services.patch_create_from_mail
    calls = {"failed": 0}

    def create(*, parsed, **kwargs):
        if parsed.msgid in victims:
            calls["failed"] += 1
            raise exc(f"boom on {parsed.msgid}")
        return real(parsed=parsed, **kwargs)

    monkeypatch.setattr(services, "patch_create_from_mail", create)
    return calls


def test_a_mail_that_fails_inside_a_batch_fails_alone(
    projects, small_batches, monkeypatch, tmp_path
):
    path, mails = write_mbox(tmp_path / "mixed.mbox", mixed_archive())
    # Two patches, in the middle of their batches.
    patches = [raw for raw in mails if b"[PATCH" in raw and b"\n+" in raw]
    victims = {peek_msgid(patches[3]), peek_msgid(patches[10])}
    failing_for(monkeypatch, victims)
    expected = reference(mails)

    calls = failing_for(monkeypatch, victims)
    archive_ingest(path)
    got = outcome()
    assert_same(got, expected)
    failed = IncomingMail.objects.filter(msgid__in=victims)
    assert {m.status for m in failed} == {IncomingMail.FAILED}
    assert all("internal error: RuntimeError: boom" in m.reason for m in failed)
    # Each failed in its batch, which ran again with it alone (where it failed again).
    assert calls["failed"] >= 4
    assert not Patch.objects.filter(msgid__in=victims).exists()


def test_an_interrupted_run_resumes_without_loss_or_duplicates(
    projects, small_batches, monkeypatch, tmp_path
):
    path, mails = write_mbox(tmp_path / "mixed.mbox", mixed_archive())
    expected = reference(mails)

    # The process dies inside a batch, two thirds of the way through the archive.
    patches = {msgid for msgid, _, kind in expected["mail"] if kind == "patch"}
    in_order = [msgid for msgid in map(peek_msgid, mails) if msgid in patches]
    crash = in_order[len(in_order) * 2 // 3]
    failing_for(monkeypatch, {crash}, exc=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        archive_ingest(path)
    stored = IncomingMail.objects.count()
    assert 0 < stored < len(expected["reasons"]["all"])
    assert not IncomingMail.objects.filter(msgid=crash).exists()  # its batch rolled back

    monkeypatch.undo()
    monkeypatch.setattr(archive, "BATCH", 7)
    monkeypatch.setattr(batch, "BATCH", 7)
    archive_ingest(path)
    assert_same(outcome(), expected)
    # Mail without a Message-ID cannot be recognised, so the reference has several too.
    msgids = list(IncomingMail.objects.exclude(msgid="").values_list("msgid", flat=True))
    assert len(msgids) == len(set(msgids))


def test_reingest_in_batches_equals_one_by_one(projects, small_batches):
    mails = mixed_archive()
    random.Random(3).shuffle(mails)
    for raw in mails:
        mail_ingest(mail_store(raw))
    revisions_supersede_due()
    expected = outcome()
    reset_ingested()

    ids = [mail_store(raw).pk for raw in mails]
    summary = mails_reingest(ids, context=IngestContext())
    revisions_supersede_due()
    assert sum(summary.values()) == len(ids)
    assert_same(outcome(), expected)


def test_reingest_command_uses_the_batches(projects, small_batches):
    mails = mixed_archive()[:40]
    ids = [mail_store(raw).pk for raw in mails]
    call_command("reingest", "--pending", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert not IncomingMail.objects.filter(pk__in=ids, status=IncomingMail.PENDING).exists()


def test_parallel_parsing_gives_what_the_writer_would_parse_in_order():
    mails = mixed_archive()
    tagged = [(raw, n) for n, raw in enumerate(mails)]
    here = list(parsed_stream(tagged, workers=0))
    workers = list(parsed_stream(tagged, workers=2))
    assert [tag for _, tag in workers] == list(range(len(mails)))
    assert [m.raw for m, _ in workers] == mails
    assert [(m.msgid, repr(m.parsed)) for m, _ in workers] == [
        (m.msgid, repr(m.parsed)) for m, _ in here
    ]
    assert any(isinstance(m.parsed, MailParseError) for m, _ in workers)


def test_a_daemonic_process_parses_in_itself(monkeypatch):
    # A celery prefork worker (the follow-inboxes job) may not start processes.
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    mails = mixed_archive()[:5]
    got = list(parsed_stream([(raw, 0) for raw in mails], workers=2))
    assert [m.raw for m, _ in got] == mails
