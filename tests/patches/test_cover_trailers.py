"""Trailers given in reply to a cover letter: counted for every patch, and in `git am`."""

from __future__ import annotations

import pytest

from apps.patches import links
from apps.patches.models import PatchTag
from apps.series.models import Series
from tests.mails import DATA, deliver, deliver_all, git, git_mails

pytestmark = pytest.mark.django_db

COVER_REPLY = DATA / "replies" / "cover-tested.eml"
TESTED = "Tested-by: Erin Tester <erin@example.org>"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def count_tested_by(series: Series) -> list[int]:
    counts = dict(
        PatchTag.objects.filter(patch__series=series, tag__name="Tested-by").values_list(
            "patch__number", "count"
        )
    )
    return [counts.get(n, 0) for n in (1, 2, 3)]


@pytest.mark.parametrize("reply_first", [False, True])
def test_cover_trailer_reaches_every_patch_and_git_am(
    client,
    frob,
    base_repo,
    tmp_path,
    reply_first,
):
    mails = git_mails("v1")
    deliver_all([COVER_REPLY, *mails] if reply_first else [*mails, COVER_REPLY])
    series = Series.objects.get()
    assert count_tested_by(series) == [1, 1, 1]

    response = client.get(links.series_mbox_path(series.pk))
    assert response.status_code == 200
    text = body(response).decode()
    assert text.count(TESTED) == 3
    mbox = tmp_path / "series.mbox"
    mbox.write_text(text)
    am = git(base_repo, "am", str(mbox), check=False)
    assert am.returncode == 0, am.stderr + am.stdout
    messages = git(base_repo, "log", "--format=%B%x00", "-3").stdout.split("\x00")
    assert sum(TESTED in m for m in messages) == 3


def test_cover_trailers_off_keeps_them_on_the_cover(client, frob):
    frob.cover_trailers = False
    frob.save(update_fields=["cover_trailers"])
    deliver_all([*git_mails("v1"), COVER_REPLY])
    series = Series.objects.get()
    assert count_tested_by(series) == [0, 0, 0]
    text = body(client.get(links.series_mbox_path(series.pk))).decode()
    assert TESTED not in text


def test_single_patch_mbox_gets_the_series_review(client, frob):
    deliver_all(git_mails("v1"))
    deliver(COVER_REPLY)
    patch = Series.objects.get().patches.get(number=2)
    text = body(client.get(links.patch_mbox_path("frob", patch.msgid))).decode()
    head, _, diff = text.partition("\n---\n")
    assert TESTED in head and TESTED not in diff
