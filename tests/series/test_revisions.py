"""Revisions linked and older patches superseded, in every way rerolls are sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.events.models import Event
from apps.patches.models import Patch
from apps.patches.services import patch_update
from apps.projects.models import State
from apps.series.models import Series
from apps.series.revisions import find_change_id, revisions_supersede_due
from apps.series.tasks import series_supersede_due
from tests.factories import make_project
from tests.mails import deliver, deliver_all, git_mails
from tests.rerolls import unthreaded, v1, v2, with_body_line, with_header

pytestmark = pytest.mark.django_db

V1_COVER = "<cover.v1.git.ada@example.org>"
V2_COVER = "<cover.v2.git.ada@example.org>"


def states(series: Series) -> list[str]:
    return [p.state.slug for p in series.patches.order_by("number").select_related("state")]


def series_of(msgid: str) -> Series:
    patch = Patch.objects.filter(msgid=msgid).first()
    if patch:
        return patch.series
    return Series.objects.get(cover__msgid=msgid)


def supersede_events() -> list[tuple[str, str, int | None]]:
    return sorted(
        (e.patch.name, e.current_state.slug, e.actor_id)
        for e in Event.objects.filter(category=Event.PATCH_STATE_CHANGED).select_related(
            "patch", "current_state"
        )
    )


def after_grace() -> int:
    """What the periodic job does once SUPERSEDE_GRACE_MINUTES have passed."""
    grace = dt.timedelta(minutes=settings.SUPERSEDE_GRACE_MINUTES, seconds=1)
    return revisions_supersede_due(now=timezone.now() + grace)


def renumbered(raw: bytes, *, msgid: str, subject: str, date: str | None = None) -> bytes:
    raw = with_header(with_header(raw, "Message-Id", msgid), "Subject", subject)
    return with_header(raw, "Date", date) if date else raw


def test_v2_sent_in_reply_supersedes_v1(frob):
    deliver_all(v1())
    deliver_all(v2())
    old, new = series_of(V1_COVER), series_of(V2_COVER)
    assert new.previous_revision == old
    assert list(old.next_revisions.all()) == [new]
    assert states(old) == ["superseded"] * 3
    assert states(new) == ["new", "new"]
    # Recorded as ordinary state changes, made by the system (no actor).
    events = supersede_events()
    assert len(events) == 3
    assert {(slug, actor) for _, slug, actor in events} == {("superseded", None)}


def test_superseding_is_reversible_by_a_maintainer(frob, maintainer):
    deliver_all(v1())
    deliver_all(v2())
    old = series_of(V1_COVER)
    patch = old.patches.order_by("number").first()
    patch_update(patch=patch, actor=maintainer, state=State.objects.get(slug="under-review"))
    patch.refresh_from_db()
    assert patch.state.slug == "under-review"
    # A late comment on v1 does not undo the maintainer's decision.
    assert states(old) == ["under-review", "superseded", "superseded"]


def test_only_action_required_patches_are_superseded(frob):
    deliver_all(v1())
    old = series_of(V1_COVER)
    first = old.patches.order_by("number").first()
    patch_update(patch=first, actor=None, state=State.objects.get(slug="accepted"))
    deliver_all(v2())
    assert states(old) == ["accepted", "superseded", "superseded"]


def test_v2_before_v1_is_linked_and_supersedes_on_arrival(frob):
    deliver_all(v2())
    deliver_all(v1())
    old, new = series_of(V1_COVER), series_of(V2_COVER)
    assert new.previous_revision == old
    assert states(old) == ["superseded"] * 3
    assert states(new) == ["new", "new"]


def unthreaded_v2() -> list[bytes]:
    mails = []
    for n, path in enumerate(git_mails("unthreaded")):
        raw = path.read_bytes()
        subject = raw.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode()
        mails.append(
            renumbered(
                raw,
                msgid=f"<unthreaded-v2-{n}@example.org>",
                subject=subject.replace("[PATCH ", "[PATCH v2 "),
                date=f"Sat, 2 Mar 2024 09:00:0{n} +0000",
            )
        )
    return mails


def test_v2_unthreaded_matches_by_name(frob):
    deliver_all(git_mails("unthreaded"))
    deliver_all(unthreaded_v2())
    old = Series.objects.get(version=1)
    new = Series.objects.get(version=2)
    assert (old.name, new.name) == ("Unthreaded frobnication",) * 2
    assert new.previous_revision == old
    # Only a name: superseding waits for the grace period (what v2 answers may be coming).
    assert new.supersede_due is not None
    assert states(old) == ["new", "new"]
    assert revisions_supersede_due(now=timezone.now()) == 0
    with CaptureQueriesContext(connection) as queries:
        assert after_grace() == 2
    # The series' patches' events in one INSERT.
    assert sum(q["sql"].startswith('INSERT INTO "events_event"') for q in queries) == 1
    assert states(old) == ["superseded", "superseded"]
    assert [(slug, actor) for _, slug, actor in supersede_events()] == [("superseded", None)] * 2
    new.refresh_from_db()
    assert new.supersede_due is None
    assert after_grace() == 0  # done once


def test_the_periodic_job_supersedes_what_is_due(frob):
    deliver_all(git_mails("unthreaded"))
    deliver_all(unthreaded_v2())
    old, new = Series.objects.get(version=1), Series.objects.get(version=2)
    series_supersede_due.delay()
    assert states(old) == ["new", "new"]  # not due yet
    Series.objects.filter(pk=new.pk).update(supersede_due=timezone.now() - dt.timedelta(seconds=1))
    series_supersede_due.delay()
    assert states(old) == ["superseded", "superseded"]
    assert "series-supersede" in settings.CELERY_BEAT_SCHEDULE


def test_without_a_grace_period_a_name_match_supersedes_at_once(frob, settings):
    settings.SUPERSEDE_GRACE_MINUTES = 0
    deliver_all(git_mails("unthreaded"))
    deliver_all(unthreaded_v2())
    new = Series.objects.get(version=2)
    assert new.supersede_due is None
    assert states(new.previous_revision) == ["superseded", "superseded"]


def test_a_maintainer_decision_within_the_grace_period_stands(frob, maintainer):
    deliver_all(git_mails("unthreaded"))
    deliver_all(unthreaded_v2())
    old = Series.objects.get(version=1)
    first = old.patches.order_by("number").first()
    patch_update(patch=first, actor=maintainer, state=State.objects.get(slug="accepted"))
    assert after_grace() == 1
    assert states(old) == ["accepted", "superseded"]


def test_a_later_send_of_the_same_name_within_the_grace_period_takes_the_link(frob):
    """v1 sent twice under one name, v2 matching by name in between the two arrivals: v2
    rerolls the later send, and the earlier one is never superseded."""
    first_send = [p.read_bytes() for p in git_mails("unthreaded")]
    resent = [
        renumbered(
            raw,
            msgid=f"<resend-{n}@example.org>",
            subject=raw.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode(),
            date=f"Fri, 1 Mar 2024 18:00:0{n} +0000",
        )
        for n, raw in enumerate(first_send)
    ]
    deliver_all([*first_send, *unthreaded_v2(), *resent])
    new = Series.objects.get(version=2)
    later_send = series_of("<resend-0@example.org>")
    assert new.previous_revision == later_send
    after_grace()
    assert states(later_send) == ["superseded", "superseded"]
    first = Series.objects.filter(version=1).exclude(pk=later_send.pk).get()
    assert states(first) == ["new", "new"]
    assert len(supersede_events()) == 2


def test_v2_with_a_change_id_matches_despite_a_new_name(frob):
    change = "change-id: 20240301-frob-negative-4f2a1c"
    first, *rest = v1()
    deliver_all([with_body_line(first, change), *rest])
    cover, *patches = v2()
    # Sent afresh: no threading, a reworded cover letter, but b4's change-id.
    cover = with_body_line(unthreaded(cover), change)
    deliver_all([cover, *(unthreaded(p) for p in patches)])
    old, new = series_of(V1_COVER), series_of(V2_COVER)
    assert old.name != new.name
    assert (old.change_id, new.change_id) == ("20240301-frob-negative-4f2a1c",) * 2
    assert new.previous_revision == old
    assert states(old) == ["new"] * 3  # a change-id, like a name, waits for the grace
    after_grace()
    assert states(old) == ["superseded"] * 3


def test_partial_reroll_of_one_patch_supersedes_only_that_patch(frob):
    mails = v1()
    deliver_all(mails)
    patch2 = Patch.objects.get(number=2)
    reroll = renumbered(
        mails[2],
        msgid="<reroll-2-v2@example.org>",
        subject="[PATCH v2 2/3] docs: rename old.txt, drop gone.txt, make frob.c executable",
        date="Fri, 1 Mar 2024 12:00:00 +0000",
    )
    reroll = with_header(reroll, "In-Reply-To", patch2.msgid)
    reroll = with_header(reroll, "References", f"{V1_COVER} {patch2.msgid}")
    deliver(reroll)
    old = series_of(V1_COVER)
    new = series_of("<reroll-2-v2@example.org>")
    assert new != old and new.previous_revision == old
    assert states(old) == ["new", "superseded", "new"]


def test_not_superseded_across_submitters(frob):
    deliver_all(v1())
    deliver_all([with_header(m, "From", "Eve Mallory <eve@example.org>") for m in v2()])
    old, new = series_of(V1_COVER), series_of(V2_COVER)
    assert new.previous_revision is None
    assert states(old) == ["new"] * 3


def test_not_superseded_across_projects(frob, maintainer):
    make_project("other", listid="other.lists.example.org", maintainers=[maintainer])
    deliver_all(git_mails("unthreaded"))
    deliver_all(
        [with_header(m, "List-Id", "Other <other.lists.example.org>") for m in unthreaded_v2()]
    )
    other = Series.objects.get(project__linkname="other")
    assert other.version == 2 and other.name == "Unthreaded frobnication"
    assert other.previous_revision is None
    assert states(Series.objects.get(project=frob)) == ["new", "new"]
    assert not Event.objects.filter(category=Event.PATCH_STATE_CHANGED).exists()


def test_setting_off_links_but_keeps_states(frob):
    frob.auto_supersede = False
    frob.save(update_fields=["auto_supersede"])
    deliver_all(v1())
    deliver_all(v2())
    old, new = series_of(V1_COVER), series_of(V2_COVER)
    assert new.previous_revision == old
    assert states(old) == ["new"] * 3
    assert not Event.objects.filter(category=Event.PATCH_STATE_CHANGED).exists()


def test_same_version_is_not_a_revision(frob):
    deliver_all(git_mails("unthreaded"))
    resent = [
        renumbered(
            p.read_bytes(),
            msgid=f"<resend-{n}@example.org>",
            subject=p.read_bytes().split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode(),
            date=f"Sun, 3 Mar 2024 09:00:0{n} +0000",
        )
        for n, p in enumerate(git_mails("unthreaded"))
    ]
    deliver_all(resent)
    assert Series.objects.count() == 2
    assert not Series.objects.exclude(previous_revision=None).exists()
    assert not Event.objects.filter(category=Event.PATCH_STATE_CHANGED).exists()


def test_find_change_id():
    assert find_change_id("blurb\n\n---\nbase-commit: abc\nchange-id: 20240301-x-1\n") == (
        "20240301-x-1"
    )
    assert find_change_id("no change id: here\n") == ""


def earlier_send_of_v1() -> list[bytes]:
    """v1 as sent the day before, under the same name (its own thread, other Message-IDs)."""
    mails = []
    for n, raw in enumerate(v1()):
        raw = with_header(raw, "Message-Id", f"<day-before-{n}@example.org>")
        raw = with_header(raw, "Date", f"Thu, 29 Feb 2024 10:00:0{n} +0000")
        if n:
            raw = with_header(raw, "In-Reply-To", "<day-before-0@example.org>")
            raw = with_header(raw, "References", "<day-before-0@example.org>")
        mails.append(raw)
    return mails


def v2_named_like_v1() -> list[bytes]:
    cover, *patches = v2()
    subject = "[PATCH v2 0/2] Fix the frobnicator and tidy the docs"
    return [with_header(cover, "Subject", subject), *patches]


@pytest.mark.parametrize("order", ["in order", "v1 last"])
def test_a_reply_outranks_a_name_match(frob, order):
    """v2 answers v1: whenever v1 arrives, v2 is its revision, not the same-named send
    of the day before that v2 could only match by name."""
    if order == "in order":
        deliver_all([*earlier_send_of_v1(), *v1(), *v2_named_like_v1()])
    else:
        deliver_all([*earlier_send_of_v1(), *v2_named_like_v1(), *v1()])
    new = series_of(V2_COVER)
    assert new.previous_revision == series_of(V1_COVER)
    assert states(series_of(V1_COVER)) == ["superseded"] * 3
    # The send of the day before, which v2 matched by name until v1 arrived, was never
    # superseded: it has no state-change event, now or once the grace period is over.
    after_grace()
    assert states(series_of("<day-before-0@example.org>")) == ["new"] * 3
    assert len(supersede_events()) == 3


def deep_v2_under_v1_first_patch() -> list[bytes]:
    """A v2 of two patches without a cover letter: its first answers v1's first patch,
    its second answers its first (git send-email --in-reply-to, deep threading)."""
    first_v1 = "<40382c694d3e3a5efd9973080834e5680642098c.deep.git.ada@example.org>"
    mails = []
    for n, raw in enumerate(git_mails("deep")[:2], start=1):
        subject = raw.read_bytes().split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode()
        reroll = renumbered(
            raw.read_bytes(),
            msgid=f"<deep-v2-{n}@example.org>",
            subject=subject.replace("[PATCH ", "[PATCH v2 "),
            date=f"Sat, 2 Mar 2024 09:00:0{n} +0000",
        )
        parent = first_v1 if n == 1 else "<deep-v2-1@example.org>"
        reroll = with_header(reroll, "In-Reply-To", parent)
        mails.append(with_header(reroll, "References", " ".join(dict.fromkeys([first_v1, parent]))))
    return mails


@pytest.mark.parametrize("order", ["in order", "reroll first", "reroll reversed"])
def test_partial_reroll_replaces_the_numbers_it_resends_in_any_order(frob, order):
    v1_mails = [p.read_bytes() for p in git_mails("deep")]
    reroll = deep_v2_under_v1_first_patch()
    if order == "in order":
        deliver_all([*v1_mails, *reroll])
    elif order == "reroll first":
        deliver_all([*reroll, *v1_mails])
    else:
        deliver_all([v1_mails[0], *reversed(reroll), *v1_mails[1:]])
    old = Patch.objects.get(number=3).series  # only v1 has a third patch
    assert series_of("<deep-v2-1@example.org>").previous_revision == old
    assert states(old) == ["superseded", "superseded", "new"]


def test_an_archive_import_leaves_no_match_waiting(frob, tmp_path):
    """parsearchive has the whole archive: nothing more of it can link v2 better."""
    mbox = tmp_path / "list.mbox"
    with open(mbox, "wb") as out:
        for raw in [*(p.read_bytes() for p in git_mails("unthreaded")), *unthreaded_v2()]:
            out.write(b"From mailer@example.org Fri Mar  1 10:00:00 2024\n")
            out.write(raw.rstrip(b"\n") + b"\n\n")
    call_command("parsearchive", str(mbox), "--list-id", "frob.lists.example.org")
    assert not Series.objects.exclude(supersede_due=None).exists()
    assert states(Series.objects.get(version=1)) == ["superseded", "superseded"]


@pytest.mark.parametrize("order", ["in order", "cover letter last"])
def test_a_name_that_changes_is_matched_again(frob, order):
    """v2 (no cover letter) is named like v1's first patch: v1 is named by its cover
    letter, so they are not revisions of each other, even when v2 arrived before the
    cover letter renamed v1."""
    cover, *patches = [p.read_bytes() for p in git_mails("unthreaded")]
    reroll = unthreaded_v2()[1:]  # its patches only
    if order == "in order":
        deliver_all([cover, *patches, *reroll])
    else:
        deliver_all([*patches, *reroll, cover])
    old, new = Series.objects.get(version=1), Series.objects.get(version=2)
    assert old.name == "Unthreaded frobnication"
    assert new.name == "frob: fix the frobnicator for negative input"
    assert new.previous_revision is None and new.supersede_due is None
    after_grace()
    assert states(old) == ["new", "new"]
