"""Tag counts from patches and comments; use_tags; retag."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.patches.models import Patch, PatchTag
from apps.projects.models import Tag
from tests.mails import deliver, deliver_all, git_mails, read

pytestmark = pytest.mark.django_db
P1 = "<40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org>"


def counts() -> dict[tuple[str, str], int]:
    return {
        (pt.patch.msgid, pt.tag.name): pt.count
        for pt in PatchTag.objects.select_related("patch", "tag")
    }


def test_trailers_in_the_patch_itself_count(frob):
    raw = (
        git_mails("v1")[1]
        .read_bytes()
        .replace(
            b"Signed-off-by: Ada",
            b"Reviewed-by: Bob Builder <bob@example.org>\nTested-by: Erin <e@example.org>\nSigned-off-by: Ada",
        )
    )
    deliver(raw)
    assert counts() == {(P1, "Reviewed-by"): 1, (P1, "Tested-by"): 1}


def test_no_tags_when_the_project_does_not_use_them(frob):
    frob.use_tags = False
    frob.save()
    deliver_all([*git_mails("v1"), read("replies/acked.eml")])
    assert counts() == {}


def test_retag_recomputes_after_a_new_tag_is_configured(frob):
    deliver_all([*git_mails("v1"), read("replies/acked.eml")])
    # An explicit id: the default tags were inserted with theirs, the sequence may lag.
    next_id = max(Tag.objects.values_list("pk", flat=True)) + 1
    Tag.objects.create(pk=next_id, name="Signed-off-by", pattern="^Signed-off-by:", abbrev="S")
    PatchTag.objects.all().delete()
    out = StringIO()
    call_command("retag", stdout=out)
    assert counts() == {
        (P1, "Acked-by"): 1,
        **{(p.msgid, "Signed-off-by"): 1 for p in Patch.objects.all()},
    }
    assert "3 patches" in out.getvalue()


def test_retag_given_patches_only(frob):
    deliver_all([*git_mails("v1"), read("replies/acked.eml")])
    PatchTag.objects.all().delete()
    patch = Patch.objects.get(msgid=P1)
    other = Patch.objects.exclude(pk=patch.pk).first()
    call_command("retag", str(patch.pk), str(other.pk), stdout=StringIO())
    assert counts() == {(P1, "Acked-by"): 1}


def test_cover_letter_trailers_count_for_every_patch_of_the_series(frob):
    v1 = git_mails("v1")
    deliver_all([v1[0], v1[1], read("replies/cover-tested.eml"), read("replies/acked.eml")])
    deliver_all(v1[2:])  # patches arriving after the review of the cover get it too
    assert counts() == {
        **{(p.msgid, "Tested-by"): 1 for p in Patch.objects.all()},
        (P1, "Acked-by"): 1,
    }


def test_the_same_trailer_on_the_cover_and_the_patch_counts_once(frob):
    raw = read("replies/cover-tested.eml").replace(
        b"Tested-by: Erin Tester <erin@example.org>", b"Acked-by: Bob Builder <bob@example.org>"
    )
    deliver_all([*git_mails("v1"), read("replies/acked.eml"), raw])
    assert counts()[(P1, "Acked-by")] == 1


def test_cover_trailers_can_be_switched_off(frob):
    frob.cover_trailers = False
    frob.save()
    deliver_all([*git_mails("v1"), read("replies/cover-tested.eml")])
    assert counts() == {}
    frob.cover_trailers = True
    frob.save()
    call_command("retag", stdout=StringIO())
    assert set(counts().values()) == {1} and len(counts()) == 3
