"""Mbox downloads from real mail: format, trailers from comments, and `git am` applying them."""

from __future__ import annotations

import os
import stat
from email.utils import make_msgid

import pytest

from apps.patches import links
from apps.patches.mbox import patch_to_mbox
from apps.patches.models import Cover, Patch
from apps.series.models import Series
from tests.mails import GIT as GIT_MAILS
from tests.mails import deliver_parsed as deliver
from tests.mails import deliver_scenario, git

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def patch_mbox_url(patch: Patch, query: str = "") -> str:
    return links.patch_mbox_path(patch.project.linkname, patch.msgid) + query


def reply(to: Patch, text: str, *, sender: str = "Rae Viewer <rae@example.org>") -> bytes:
    return (
        f"From: {sender}\n"
        "To: frob@lists.example.org\n"
        f"Message-Id: {make_msgid(domain='example.org')}\n"
        f"In-Reply-To: {to.msgid}\n"
        f"References: {to.msgid}\n"
        "Date: Sat, 2 Mar 2024 08:00:00 +0000\n"
        f"Subject: Re: {to.name}\n"
        "List-Id: Frobnicator development <frob.lists.example.org>\n"
        "Content-Type: text/plain; charset=utf-8\n\n" + text
    ).encode()


@pytest.fixture
def v1(frob):
    deliver_scenario("v1")
    series = Series.objects.get(project=frob)
    return series, list(series.patches.order_by("number"))


def test_patch_mbox_keeps_the_original_mail_and_adds_nothing_foreign(client, v1):
    _, patches = v1
    response = client.get(patch_mbox_url(patches[0]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename=1-3-frob-fix-the-frobnicator-for-negative-input.patch"
    )
    text = response.getvalue().decode()
    head, _, message = text.partition("\n\n")
    lines = head.splitlines()
    assert lines[0] == "From patchwork Fri Mar  1 10:00:01 2024"
    assert "Subject: [PATCH 1/3] frob: fix the frobnicator for negative input" in lines
    assert f"Message-Id: {patches[0].msgid}" in lines
    assert "Date: Fri, 1 Mar 2024 10:00:01 +0000" in lines
    assert "From: Ada Lovelace <ada@example.org>" in lines
    assert sum(line.startswith("From: ") for line in lines) == 1
    assert sum(line.startswith("Content-Type: ") for line in lines) == 1
    assert f"X-Patchwork-Id: {patches[0].id}" in lines
    assert message.startswith("Negative input used to wrap around. Return 0 instead.\n\n")
    commit, sep, rest = message.partition("\n---\n")
    assert sep and commit.endswith("Signed-off-by: Ada Lovelace <ada@example.org>")
    assert " src/frob.c | 2 ++" in rest and "\ndiff --git a/src/frob.c b/src/frob.c\n" in rest


def test_trailers_from_comments_are_added_to_the_commit_message(client, v1):
    _, patches = v1
    deliver(reply(patches[0], "Nice.\n\nAcked-by: Rae Viewer <rae@example.org>\n"))
    deliver(
        reply(
            patches[0],
            "> quoted\nReviewed-by: Tim Tester <tim@example.org>\n"
            "Tested-by: Tim Tester <tim@example.org>\n"
            # given twice, kept once; and already in the patch: not repeated
            "Acked-by: Rae Viewer <rae@example.org>\n"
            "Signed-off-by: Ada Lovelace <ada@example.org>\n",
            sender="Tim Tester <tim@example.org>",
        )
    )
    text = client.get(patch_mbox_url(patches[0])).getvalue().decode()
    commit = text.partition("\n\n")[2].partition("\n---\n")[0]
    assert commit.splitlines()[-4:] == [
        "Signed-off-by: Ada Lovelace <ada@example.org>",
        "Acked-by: Rae Viewer <rae@example.org>",
        "Reviewed-by: Tim Tester <tim@example.org>",
        "Tested-by: Tim Tester <tim@example.org>",
    ]
    # The other patches are untouched.
    assert "Acked-by" not in client.get(patch_mbox_url(patches[1])).getvalue().decode()


def test_series_mbox_applies_with_git_am(client, v1, base_repo, tmp_path):
    series, _ = v1
    response = client.get(links.series_mbox_path(series.id))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == (
        "attachment; filename=Fix-the-frobnicator-and-tidy-the-docs.patch"
    )
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(body(response))
    am = git(base_repo, "am", str(mbox), check=False)
    assert am.returncode == 0, am.stderr + am.stdout
    log = git(base_repo, "log", "--format=%s|%an <%ae>", "-3").stdout.splitlines()
    assert log == [
        "docs: add a logo, an empty file and a file without newline|Ada Lovelace <ada@example.org>",
        "docs: rename old.txt, drop gone.txt, make frob.c executable|Ada Lovelace <ada@example.org>",
        "frob: fix the frobnicator for negative input|Ada Lovelace <ada@example.org>",
    ]
    assert (base_repo / "src/frob.c").read_text().count("if (x < 0)") == 1
    assert os.stat(base_repo / "src/frob.c").st_mode & stat.S_IXUSR
    assert not (base_repo / "docs/gone.txt").exists()
    assert (base_repo / "docs/new.txt").read_text() == "old\n"
    assert (base_repo / "docs/logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (base_repo / "docs/empty.txt").read_bytes() == b""
    assert (base_repo / "docs/nonl.txt").read_bytes() == b"no newline"


def test_patch_mbox_with_series_dependencies(client, v1, base_repo, tmp_path):
    series, patches = v1
    third = patches[2]
    for query in ("?series=*", f"?series={series.id}"):
        text = client.get(patch_mbox_url(third, query)).getvalue().decode()
        assert text.count("\nFrom patchwork ") + text.startswith("From patchwork ") == 3
        # Messages are separated by a blank line.
        assert "\n\nFrom patchwork Fri Mar  1 10:00:02 2024\n" in text
    mbox = tmp_path / "third.mbox"
    mbox.write_bytes(client.get(patch_mbox_url(third, "?series=*")).getvalue())
    assert git(base_repo, "am", str(mbox), check=False).returncode == 0
    assert git(base_repo, "rev-list", "--count", "HEAD").stdout.strip() == "4"
    # Without it, only the patch itself.
    assert client.get(patch_mbox_url(third)).getvalue().decode().count("From patchwork ") == 1
    # A series the patch is not in is a 404.
    assert client.get(patch_mbox_url(third, "?series=999")).status_code == 404


def test_raw_diff(client, v1):
    _, patches = v1
    response = client.get(links.patch_raw_path(patches[0].project.linkname, patches[0].msgid))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename=1-3-frob-fix-the-frobnicator-for-negative-input.diff"
    )
    assert response.getvalue().decode() == patches[0].diff


def test_cover_mbox(client, v1):
    cover = Cover.objects.get()
    response = client.get(links.cover_mbox_path(cover.project.linkname, cover.msgid))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith(".mbox")
    text = response.getvalue().decode()
    assert text.startswith("From patchwork Fri Mar  1 10:00:00 2024\n")
    assert "Subject: [PATCH 0/3] Fix the frobnicator and tidy the docs\n" in text
    assert "The frobnicator wrapped around on negative input" in text


def test_unknown_downloads_are_404(client, v1):
    _, patches = v1
    assert client.get("/project/frob/patch/nobody@example.org/mbox/").status_code == 404
    assert client.get(f"/project/other/patch/{patches[0].url_msgid}/mbox/").status_code == 404
    assert client.get("/series/999999/mbox/").status_code == 404
    assert client.get("/project/frob/cover/nobody@example.org/mbox/").status_code == 404


def test_message_ids_with_slashes_and_odd_characters(client, frob):
    from tests.factories import make_patch

    patch = make_patch(frob, msgid="<a/b+c#d?e%f@example.org>", name="odd")
    url = links.patch_mbox_path("frob", patch.msgid)
    assert url == "/project/frob/patch/a/b+c%23d%3Fe%25f@example.org/mbox/"
    response = client.get(url)
    assert response.status_code == 200
    assert f"Message-Id: {patch.msgid}" in response.getvalue().decode()
    raw = client.get(links.patch_raw_path("frob", patch.msgid))
    assert raw.status_code == 200 and raw.getvalue().decode() == patch.diff


def test_non_ascii_names_and_subjects_are_encoded(frob):
    from tests.factories import make_patch, make_person

    person = make_person("jose@example.org", name="José Müller")
    patch = make_patch(
        frob,
        submitter=person,
        name="fix ünïcode",
        headers="Message-Id: <u@example.org>\nSubject: [PATCH] fix ünïcode\n",
        content="Corrige le problème.\n\nSigned-off-by: José Müller <jose@example.org>",
    )
    text = patch_to_mbox(patch)
    head, _, message = text.partition("\n\n")
    assert head.isascii()
    assert "From: =?utf-8?" in head and "Subject: =?utf-8?" in head
    assert "Corrige le problème." in message


def test_pull_request_without_diff(client, frob):
    deliver((GIT_MAILS / "pull.eml").read_bytes())
    patch = Patch.objects.get()
    assert patch.diff is None and patch.pull_url
    text = client.get(patch_mbox_url(patch)).getvalue().decode()
    assert "please pull the frobnicator fixes" in text
    assert "diff --git" not in text
