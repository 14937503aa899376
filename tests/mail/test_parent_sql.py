"""The fast path of a reply's parent (apps/mail/sql.py) finds what the plain Django path
finds: the nearest patch, else cover letter, else comment, at the same position."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from apps.mail.replies import reply_parent
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from tests.mails import deliver_all, git_mails

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's"),
]

REPLIES = ["replies/reviewed.eml", "replies/acked.eml", "replies/cover-tested.eml"]


def seen(parent) -> tuple | None:
    if parent is None:
        return None
    submission = parent.submission
    fields = {f.attname: getattr(submission, f.attname) for f in type(submission)._meta.fields}
    return type(submission).__name__, fields, parent.position, parent.via_comment


def test_fast_parents_equal_the_plain_ones(frob):
    deliver_all([*git_mails("v1"), *REPLIES])
    msgids = {
        kind: list(model.objects.values_list("msgid", flat=True))
        for kind, model in (
            ("patch", Patch),
            ("cover", Cover),
            ("patch comment", PatchComment),
            ("cover comment", CoverComment),
        )
    }
    assert all(msgids.values()), msgids
    known = [m for kind in msgids.values() for m in kind[:2]]
    kinds = set()
    for refs in itertools.chain(
        ([m] for m in known),
        itertools.permutations(known[:4], 3),
        [[*known, "<unknown@example.org>"], ["<unknown@example.org>"]],
    ):
        plain = seen(reply_parent(frob, list(refs), fast=False))
        assert seen(reply_parent(frob, list(refs), fast=True)) == plain, refs
        kinds.add(plain and (plain[0], plain[3]))
    # Every way to a parent was compared: a patch, a cover letter, through a comment, none.
    assert {("Patch", False), ("Cover", False), ("Patch", True), None} <= kinds


def test_the_fast_path_reads_patches_and_covers_together(frob, django_assert_num_queries):
    deliver_all(git_mails("v1"))
    refs = list(Cover.objects.values_list("msgid", flat=True))
    with django_assert_num_queries(1) as captured:
        parent = reply_parent(frob, refs)
    assert isinstance(parent.submission, Cover)
    assert "UNION ALL" in captured.captured_queries[0]["sql"]
