"""Comments: replies to patches and cover letters, deep threads, replies that come first."""

from __future__ import annotations

import itertools

import pytest

from apps.events.models import Event
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from tests.mail.snapshot import reset_ingested, snapshot
from tests.mails import deliver, deliver_all, git_mails, read

pytestmark = pytest.mark.django_db

P1 = "<40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org>"
REPLIES = [
    "replies/acked.eml",
    "replies/reviewed.eml",
    "replies/reply-to-acked.eml",
    "replies/irt-only.eml",
]


def tags(patch: Patch) -> dict[str, int]:
    return {pt.tag.name: pt.count for pt in patch.patchtags.select_related("tag")}


def test_review_reply_is_a_comment_with_its_tags(frob):
    deliver_all(git_mails("v1"))
    mail = deliver("replies/acked.eml")
    patch = Patch.objects.get(msgid=P1)
    comment = PatchComment.objects.get()
    assert mail.outcome == f"comment {comment.pk} on patch {patch.pk} in frob"
    assert comment.patch == patch
    assert comment.msgid == "<acked@example.org>"
    assert comment.submitter.email == "bob@example.org"
    assert comment.content == (
        "On Fri, Ada Lovelace wrote:\n"
        "> Negative input used to wrap around. Return 0 instead.\n>\n"
        "> Signed-off-by: Ada Lovelace <ada@example.org>\n\n"
        "Good catch.\n\nAcked-by: Bob Builder <bob@example.org>"
    )
    assert "In-Reply-To: <40382c694d3e" in comment.headers
    assert tags(patch) == {"Acked-by": 1}
    event = Event.objects.get(category="patch-comment-created")
    assert (event.patch, event.patch_comment) == (patch, comment)


def test_the_same_trailer_from_two_people_counts_once(frob):
    deliver_all([*git_mails("v1"), read("replies/acked.eml"), read("replies/reviewed.eml")])
    assert tags(Patch.objects.get(msgid=P1)) == {"Acked-by": 1, "Reviewed-by": 1}


def test_deep_thread_and_in_reply_to_only_replies_reach_the_patch(frob):
    deliver_all([*git_mails("v1"), *[read(name) for name in REPLIES]])
    patch = Patch.objects.get(msgid=P1)
    assert sorted(patch.comments.values_list("msgid", flat=True)) == [
        "<acked@example.org>",
        "<irt-only@example.org>",
        "<reply-to-acked@example.org>",
        "<reviewed@example.org>",
    ]


def test_reply_to_a_cover_letter(frob):
    deliver_all(git_mails("v1"))
    deliver("replies/cover-tested.eml")
    comment = CoverComment.objects.get()
    assert comment.cover == Cover.objects.get()
    event = Event.objects.get(category="cover-comment-created")
    assert (event.cover, event.cover_comment) == (comment.cover, comment)


def test_reply_that_arrives_before_its_patch_waits_and_then_becomes_a_comment(frob):
    mail = deliver("replies/acked.eml")
    assert mail.status == IncomingMail.IGNORED
    assert mail.reason.startswith(f"a reply to {P1}, which is not a known patch")
    assert AwaitedMessage.objects.filter(mail=mail, kind="reply").count() == 2
    deliver_all(git_mails("v1"))
    mail.refresh_from_db()
    patch = Patch.objects.get(msgid=P1)
    assert mail.status == IncomingMail.PARSED
    assert mail.outcome.startswith("comment ") and mail.outcome.endswith(
        f" on patch {patch.pk} in frob"
    )
    assert tags(patch) == {"Acked-by": 1}
    assert not AwaitedMessage.objects.filter(kind="reply").exists()


def test_reply_attached_to_the_cover_moves_to_its_patch_when_that_arrives(frob):
    v1 = git_mails("v1")
    deliver("replies/acked.eml")
    deliver(v1[0])  # the cover letter arrives: the reply is on it for now
    assert CoverComment.objects.get().msgid == "<acked@example.org>"
    deliver(v1[1])  # its nearer parent, the patch, arrives: the reply moves there
    assert not CoverComment.objects.exists()
    assert PatchComment.objects.get().patch.msgid == P1
    assert not Event.objects.filter(category="cover-comment-created").exists()
    assert Event.objects.filter(category="patch-comment-created").count() == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(4)))[::5])
def test_replies_in_any_order_end_up_as_in_order(frob, order):
    series = git_mails("v1")
    replies = [read(name) for name in REPLIES] + [read("replies/cover-tested.eml")]
    deliver_all([*series, *replies])
    expected = snapshot()
    reset_ingested()
    mails = [*replies[:2], series[1], *replies[2:], series[0], *series[2:]]
    head = [mails[i] for i in order]
    deliver_all(head + mails[4:])
    assert snapshot() == expected


def test_reply_to_an_unknown_message_is_kept_waiting(frob):
    mail = deliver("replies/unknown-parent.eml")
    assert mail.status == "ignored"
    assert "<never-delivered@example.org>" in mail.reason
    assert not PatchComment.objects.exists() and not CoverComment.objects.exists()


def test_a_reply_with_a_diff_is_a_comment_not_a_patch(frob):
    deliver_all(git_mails("v1"))
    raw = read("replies/acked.eml").replace(
        b"Good catch.",
        b"How about this instead:\n\n" + git_mails("v1")[1].read_bytes().split(b"\n---\n", 1)[1],
    )
    deliver(raw)
    assert Patch.objects.count() == 3
    assert "diff --git a/src/frob.c" in PatchComment.objects.get().content


def test_mail_that_is_nothing_is_ignored(frob):
    raw = read("replies/unknown-parent.eml")
    raw = (
        raw.replace(b"In-Reply-To: <never-delivered@example.org>\n", b"")
        .replace(b"References: <never-delivered@example.org>\n", b"")
        .replace(b"Subject: Re: something else", b"Subject: Meeting notes")
    )
    mail = deliver(raw)
    assert (mail.status, mail.reason) == ("ignored", "neither a patch, a cover letter nor a reply")


def test_comment_delivered_twice_is_stored_once(frob):
    deliver_all(git_mails("v1"))
    first, second = deliver("replies/acked.eml"), deliver("replies/acked.eml")
    assert first.status == "parsed" and second.status == "ignored"
    assert second.reason.startswith("duplicate: <acked@example.org> is already comment")
    assert PatchComment.objects.count() == 1


def test_in_order_threads_leave_nothing_waiting(frob):
    """Nothing waits once every message a reply references has arrived."""
    deliver_all([*git_mails("v1"), *[read(name) for name in REPLIES]])
    assert (
        not AwaitedMessage.objects.filter(kind="reply")
        .exclude(
            msgid="<reply-to-acked@example.org>"  # irt-only is placed through that comment
        )
        .exists()
    )


def test_a_reply_to_a_stored_but_not_yet_ingested_reply_stops_waiting_when_it_is(frob):
    """Workers can take a reply before the (already stored) message it answers: it waits
    for that one, and stops waiting once that one is ingested, as in order."""
    from apps.mail.intake import mail_store
    from apps.mail.services import mail_ingest

    deliver_all(git_mails("v1"))
    acked = mail_store(read("replies/acked.eml"))  # stored, still pending
    answer = deliver(read("replies/reply-to-acked.eml"))
    assert answer.status == IncomingMail.PARSED  # on the patch, for now
    assert AwaitedMessage.objects.filter(mail=answer, kind=AwaitedMessage.REPLY).exists()
    mail_ingest(acked)
    assert not AwaitedMessage.objects.filter(kind=AwaitedMessage.REPLY).exists()
    assert PatchComment.objects.get(msgid="<reply-to-acked@example.org>").patch.msgid == (
        "<40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org>"
    )
