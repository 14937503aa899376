"""Series assembly from real git mail: threading styles, versions, arrival order, completion."""

from __future__ import annotations

import random
import re

import pytest

from apps.events.models import Event
from apps.mail.models import AwaitedMessage
from apps.patches.models import Patch
from apps.series.models import Series
from tests.mail.snapshot import reset_ingested, snapshot
from tests.mails import DATA, deliver, deliver_all, git_mails

pytestmark = pytest.mark.django_db


def completed() -> list[str]:
    return sorted(
        e.patch.name
        for e in Event.objects.filter(category="patch-completed").select_related("patch")
    )


def with_header(raw: bytes, name: str, value: str) -> bytes:
    """Replace (or add) one header, as a resend or a hand-edited mail would."""
    head, sep, body = raw.partition(b"\n\n")
    pattern = re.compile(rb"^" + name.encode() + rb":.*(\n[ \t].*)*$", re.MULTILINE | re.IGNORECASE)
    line = f"{name}: {value}".encode()
    head = pattern.sub(line, head) if pattern.search(head) else head + b"\n" + line
    return head + sep + body


def test_partial_series_in_order(frob):
    v1 = git_mails("v1")
    deliver_all([v1[0], v1[1], v1[3]])
    series = Series.objects.get()
    assert (series.total, series.patches.count()) == (3, 2)
    assert completed() == ["[1/3] frob: fix the frobnicator for negative input"]
    assert not Event.objects.filter(category="series-completed").exists()
    deliver(v1[2])
    assert completed() == [
        "[1/3] frob: fix the frobnicator for negative input",
        "[2/3] docs: rename old.txt, drop gone.txt, make frob.c executable",
        "[3/3] docs: add a logo, an empty file and a file without newline",
    ]
    assert Event.objects.filter(category="series-completed", series=series).count() == 1


def test_patches_before_their_cover_letter(frob):
    v1 = git_mails("v1")
    deliver_all(list(reversed(v1)))
    series = Series.objects.get()
    assert series.cover.msgid == "<cover.v1.git.ada@example.org>"
    assert series.name == "Fix the frobnicator and tidy the docs"
    assert [p.number for p in series.patches.order_by("number")] == [1, 2, 3]


@pytest.mark.parametrize("scenario", ["v1", "deep", "unthreaded", "v1+v2", "hg"])
def test_any_arrival_order_gives_the_in_order_result(frob, scenario):
    if scenario == "v1+v2":
        mails = git_mails("v1") + git_mails("v2")
    elif scenario == "hg":
        mails = sorted((DATA / "diff" / "hg").glob("*.eml"))
    else:
        mails = git_mails(scenario)
    deliver_all(mails)
    expected = snapshot()
    rng = random.Random(f"series-{scenario}")
    for _ in range(5):
        reset_ingested()
        order = mails[:]
        rng.shuffle(order)
        deliver_all(order)
        assert snapshot() == expected, [p.name for p in order]


def test_deep_threading_without_cover(frob):
    deliver_all(git_mails("deep"))
    series = Series.objects.get()
    assert series.cover is None
    assert series.name == "frob: fix the frobnicator for negative input"
    assert series.patches.count() == 3


def test_unthreaded_series_is_grouped_by_markers(frob):
    deliver_all(git_mails("unthreaded"))
    series = Series.objects.get()
    assert series.cover.name == "[0/2] Unthreaded frobnication"
    assert series.patches.count() == 2


def test_unthreaded_parts_far_apart_are_separate_series(frob):
    first, second = git_mails("unthreaded")[1:]
    deliver(first)
    deliver(with_header(second.read_bytes(), "Date", "Sat, 9 Mar 2024 10:00:00 +0000"))
    assert Series.objects.count() == 2


def test_v2_in_reply_to_v1_cover_in_any_order_has_two_series(frob):
    deliver_all(git_mails("v2") + git_mails("v1"))
    v1, v2 = Series.objects.order_by("version")
    assert [p.msgid.split(".")[1] for p in v1.patches.all()] == ["v1"] * 3
    assert [p.msgid.split(".")[1] for p in v2.patches.all()] == ["v2"] * 2
    assert v2.cover.msgid == "<cover.v2.git.ada@example.org>"


def test_v2_in_reply_to_v1_first_patch_without_cover(frob):
    """git send-email --in-reply-to=<v1 1/3> --subject-prefix='PATCH v2', no cover letter."""
    v1_first = "<40382c694d3e3a5efd9973080834e5680642098c.deep.git.ada@example.org>"
    deep = git_mails("deep")
    v2 = []
    for index, path in enumerate(git_mails("v2")[1:], start=1):
        raw = path.read_bytes().replace(b"[PATCH v2 ", b"[PATCH v2 ")
        refs = [v1_first] if index == 1 else [v1_first, "<v2-1@example.org>"]
        raw = with_header(raw, "Message-Id", f"<v2-{index}@example.org>")
        raw = with_header(raw, "In-Reply-To", refs[-1])
        raw = with_header(raw, "References", " ".join(refs))
        v2.append(raw)
    deliver_all([v2[1], *deep, v2[0]])
    assert sorted((s.version, s.patches.count()) for s in Series.objects.all()) == [(1, 3), (2, 2)]


def test_a_resent_patch_starts_a_new_series(frob):
    v1 = git_mails("v1")
    deliver_all(v1)
    resent = with_header(v1[1].read_bytes(), "Message-Id", "<resend.1@example.org>")
    mail = deliver(resent)
    assert mail.status == "parsed"
    patch = Patch.objects.get(msgid="<resend.1@example.org>")
    assert patch.series != Series.objects.get(cover__isnull=False)
    assert patch.series.patches.count() == 1


def test_an_extra_patch_joins_and_completes_in_turn(frob):
    v1 = git_mails("v1")
    extra = with_header(v1[3].read_bytes(), "Message-Id", "<extra.4@example.org>")
    extra = with_header(extra, "Subject", "[PATCH 4/3] docs: one more thing")
    deliver_all([v1[0], v1[1]])
    deliver(extra)
    series = Series.objects.get()
    assert series.patches.count() == 2
    assert "[4/3] docs: one more thing" not in completed()
    deliver_all(v1[2:])
    assert series.patches.count() == 4
    assert "[4/3] docs: one more thing" in completed()
    assert Event.objects.filter(category="series-completed").count() == 1


def test_unnumbered_patch_is_a_series_of_one(frob):
    deliver(git_mails("single")[0])
    patch = Patch.objects.get()
    assert (patch.number, patch.series.total, patch.series.name) == (
        1,
        1,
        "docs: add a logo, an empty file and a file without newline",
    )
    assert sorted(Event.objects.values_list("category", flat=True)) == [
        "patch-completed",
        "patch-created",
        "series-completed",
        "series-created",
    ]


def test_unnumbered_patch_in_reply_to_a_series_is_its_own_series(frob):
    v1 = git_mails("v1")
    deliver_all(v1)
    fixup = with_header(
        git_mails("single")[0].read_bytes(), "In-Reply-To", "<cover.v1.git.ada@example.org>"
    )
    fixup = with_header(fixup, "References", "<cover.v1.git.ada@example.org>")
    deliver(fixup)
    assert Series.objects.count() == 2
    assert Series.objects.get(cover__isnull=False).patches.count() == 3


def test_mercurial_patchbomb_series(frob):
    deliver_all(sorted((DATA / "diff" / "hg").glob("*.eml")))
    series = Series.objects.get()
    assert series.cover.name == "[0 of 2] frob: mercurial series"
    assert series.name == "frob: mercurial series"
    assert [p.name for p in series.patches.order_by("number")] == [
        "[1 of 2] frob: add a comment",
        "[2 of 2] frob: git-style diff from hg",
    ]


def test_series_name_and_date_follow_the_first_patch_whatever_the_order(frob):
    deep = git_mails("deep")
    deliver_all([deep[2], deep[1]])
    series = Series.objects.get()
    assert series.name == "docs: rename old.txt, drop gone.txt, make frob.c executable"
    deliver(deep[0])
    series.refresh_from_db()
    assert series.name == "frob: fix the frobnicator for negative input"
    assert series.date == Patch.objects.get(number=1).date


def test_depends_on_a_message_id_arriving_later_or_earlier(frob):
    dependency = with_header(
        git_mails("single")[0].read_bytes(), "Message-Id", "<20240201090000.1234-1-bob@example.org>"
    )
    deliver_all(git_mails("v1"))
    deliver(dependency)
    v1 = Series.objects.get(cover__isnull=False)
    other = Series.objects.exclude(pk=v1.pk).get()
    assert list(v1.dependencies.all()) == [other]
    assert not AwaitedMessage.objects.filter(kind="depends").exists()
    expected = snapshot()
    reset_ingested()
    deliver(dependency)
    deliver_all(git_mails("v1"))
    assert snapshot() == expected


def test_depends_on_a_series_url(frob):
    deliver(git_mails("single")[0])
    target = Series.objects.get()
    cover = (
        git_mails("v1")[0]
        .read_bytes()
        .replace(
            b"Depends-on: <20240201090000.1234-1-bob@example.org>",
            f"Depends-on: http://127.0.0.1:8000/project/frob/list/?series={target.pk}".encode(),
        )
    )
    deliver(cover)
    assert list(Series.objects.get(cover__isnull=False).dependencies.all()) == [target]
