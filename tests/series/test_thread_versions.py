"""Thread membership outranks version markers (compat/thread-v3: a v3 cover letter whose
patches carry no version, and a v4 of patch 3 sent in reply to it)."""

from __future__ import annotations

import random

import pytest

from apps.events.models import Event
from apps.patches.models import Patch
from apps.series.models import Series
from tests.api.client import ApiClient
from tests.mail.snapshot import reset_ingested, snapshot
from tests.mails import DATA, deliver_all

pytestmark = pytest.mark.django_db

MAILS = sorted((DATA / "compat" / "thread-v3").glob("*.eml"))
V3, V4 = MAILS[:5], MAILS[5:]


def test_unversioned_replies_to_a_v3_cover_are_v3(frob):
    deliver_all(V3)
    series = Series.objects.get()
    assert (series.version, series.total, series.patches.count()) == (3, 4, 4)
    assert series.cover.name == "[net-next,v3,0/4] net: account for dropped frames"
    data = ApiClient("1.3").get(f"series/{series.pk}/").data
    assert (data["version"], data["total"], data["received_total"]) == (3, 4, 4)
    assert data["received_all"] is True
    assert Event.objects.filter(category="series-completed", series=series).count() == 1


@pytest.mark.parametrize("first", ["cover", "patches"])
def test_the_cover_letter_arriving_last_or_first_gives_one_series(frob, first):
    deliver_all([*V3[1:], V3[0]] if first == "patches" else V3)
    assert Series.objects.get().version == 3


def test_a_v4_sent_in_reply_is_a_reroll_not_a_part(frob):
    deliver_all(V3 + V4)
    v3 = Series.objects.get(version=3)
    v4 = Series.objects.get(version=4)
    assert v3.patches.count() == 4 and v4.patches.count() == 1
    assert v4.previous_revision == v3
    # A partial reroll (sent in reply to a patch, no cover letter) replaces that patch only.
    states = dict(Patch.objects.filter(series=v3).values_list("number", "state__slug"))
    assert states == {1: "new", 2: "new", 3: "superseded", 4: "new"}


def test_any_arrival_order_gives_the_same_series(frob):
    deliver_all(MAILS)
    expected = snapshot()
    rng = random.Random("thread-v3")
    orders = [list(reversed(MAILS))] + [rng.sample(MAILS, len(MAILS)) for _ in range(6)]
    for order in orders:
        reset_ingested()
        deliver_all(order)
        assert snapshot() == expected, [p.name for p in order]


def test_a_number_already_taken_starts_a_new_series(frob):
    """A resent [PATCH 3/4] in reply to 3/4 (in order: Patchwork's rule, first come first)."""
    deliver_all(V3)
    resent = (
        V3[3]
        .read_bytes()
        .replace(b"Message-Id: <v3-3.grace@", b"Message-Id: <v3-3-again.grace@")
        .replace(
            b"In-Reply-To: <v3-cover.grace@example.org>",
            b"In-Reply-To: <v3-3.grace@example.org>",
        )
    )
    deliver_all([resent])
    v3 = Series.objects.get(version=3)
    assert sorted(v3.patches.values_list("number", flat=True)) == [1, 2, 3, 4]
    other = Series.objects.exclude(pk=v3.pk).get()
    assert other.patches.get().msgid == "<v3-3-again.grace@example.org>"
