"""Real `git format-patch` series: cover letter, patches, series, events, v2 in reply to v1."""

from __future__ import annotations

import pytest

from apps.events.models import Event
from apps.mail.models import IncomingMail
from apps.mail.parse.hashing import hash_diff
from apps.patches.models import Cover, Patch
from apps.series.models import Series
from tests.mails import deliver, deliver_all, git_mails

pytestmark = pytest.mark.django_db


def events(**filters):
    return sorted(
        (e.category, e.patch_id, e.cover_id, e.series_id) for e in Event.objects.filter(**filters)
    )


def test_cover_letter_and_three_patches(frob):
    mails = deliver_all(git_mails("v1"))
    assert [m.status for m in mails] == ["parsed"] * 4
    series = Series.objects.get()
    cover = Cover.objects.get()
    patches = list(Patch.objects.order_by("number"))
    assert cover.name == "[0/3] Fix the frobnicator and tidy the docs"
    assert cover.msgid == "<cover.v1.git.ada@example.org>"
    assert series.name == "Fix the frobnicator and tidy the docs"
    assert series.cover == cover
    assert (series.total, series.version) == (3, 1)
    assert series.submitter.email == "ada@example.org"
    assert series.submitter.name == "Ada Lovelace"
    assert [p.name for p in patches] == [
        "[1/3] frob: fix the frobnicator for negative input",
        "[2/3] docs: rename old.txt, drop gone.txt, make frob.c executable",
        "[3/3] docs: add a logo, an empty file and a file without newline",
    ]
    assert [p.number for p in patches] == [1, 2, 3]
    assert all(p.series == series and p.state.slug == "new" for p in patches)
    first = patches[0]
    assert first.content == (
        "Negative input used to wrap around. Return 0 instead.\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>\n"
        "---\n"
        " src/frob.c | 2 ++\n"
        " 1 file changed, 2 insertions(+)"
    )
    text = git_mails("v1")[1].read_text()
    assert first.diff == text[text.index("diff --git") : text.index("\n-- \n") + 1]
    assert first.hash == hash_diff(first.diff)
    assert first.headers.startswith("Message-Id: <")
    assert "\nSubject: [PATCH 1/3] frob: fix the frobnicator for negative input\n" in first.headers
    assert mails[1].outcome == f"patch {first.pk} in frob: {first.name}"

    assert events() == sorted(
        [
            ("series-created", None, None, series.pk),
            ("cover-created", None, cover.pk, None),
            *[("patch-created", p.pk, None, None) for p in patches],
            *[("patch-completed", p.pk, None, series.pk) for p in patches],
            ("series-completed", None, None, series.pk),
        ]
    )


def test_v2_in_reply_to_v1_is_a_new_series(frob):
    deliver_all(git_mails("v1"))
    deliver_all(git_mails("v2"))
    v1, v2 = Series.objects.order_by("version")
    assert (v1.version, v1.total, v1.patches.count()) == (1, 3, 3)
    assert (v2.version, v2.total, v2.patches.count()) == (2, 2, 2)
    assert v2.name == "Fix the frobnicator"
    assert v2.cover.name == "[v2,0/2] Fix the frobnicator"
    assert [p.name for p in v2.patches.order_by("number")] == [
        "[v2,1/2] frob: fix the frobnicator for negative input",
        "[v2,2/2] docs: rename old.txt",
    ]
    assert Event.objects.filter(category="series-completed").count() == 2


def test_same_mail_twice_is_stored_once(frob):
    path = git_mails("v1")[1]
    first, second = deliver(path), deliver(path)
    assert first.status == IncomingMail.PARSED
    assert second.status == IncomingMail.IGNORED
    assert (
        second.reason
        == f"duplicate: {Patch.objects.get().msgid} is already patch {Patch.objects.get().pk}"
    )
    assert Patch.objects.count() == 1
    assert Event.objects.filter(category="patch-created").count() == 1
