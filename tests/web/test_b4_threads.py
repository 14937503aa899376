"""What b4 reads from this site besides the REST API: threads and single messages where
b4.midmask points, and the git config lines the project page shows (those test_b4_e2e runs)."""

from __future__ import annotations

import gzip
import mailbox
import re

import pytest
from django.urls import reverse

from apps.projects.models import State
from tests.clients.test_b4_e2e import V1_COVER, V1_PATCH_1, b4_config
from tests.mails import deliver
from tests.rerolls import v1

pytestmark = pytest.mark.django_db

REVIEW = b"""\
From: Rae Viewer <rae@example.org>
Message-Id: <review.1@example.org>
In-Reply-To: <%s>
References: <%s>
Date: Sat, 2 Mar 2024 08:00:00 +0000
Subject: Re: [PATCH 1/3] frob: fix the frobnicator for negative input
List-Id: Frobnicator development <frob.lists.example.org>

Reviewed-by: Rae Viewer <rae@example.org>
""" % (V1_PATCH_1.encode(), V1_PATCH_1.encode())


def messages(data: bytes, tmp_path) -> list:
    path = tmp_path / "t.mbox"
    path.write_bytes(data)
    return list(mailbox.mbox(str(path)))


@pytest.fixture
def thread(frob):
    for raw in [*v1(), REVIEW]:
        deliver(raw)
    return frob


@pytest.mark.parametrize("msgid", [V1_COVER, V1_PATCH_1, "review.1@example.org"])
def test_thread_of_any_message_is_its_series_with_replies(client, thread, msgid, tmp_path):
    url = reverse("thread-mbox", args=["frob", msgid])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    found = messages(gzip.decompress(response.content), tmp_path)
    ids = [m["Message-Id"] for m in found]
    assert len(ids) == 5 and f"<{V1_COVER}>" in ids and "<review.1@example.org>" in ids
    # Headers go out as they came in: a long Subject keeps git format-patch's folding.
    subjects = [re.sub(r"\n[ \t]+", " ", m["Subject"]) for m in found]
    assert "[PATCH 3/3] docs: add a logo, an empty file and a file without newline" in subjects


def test_raw_message_and_unknown_ones(client, thread, project):
    raw = client.get(reverse("thread-message-raw", args=["frob", "review.1@example.org"]))
    assert raw.status_code == 200
    assert b"Reviewed-by: Rae Viewer" in raw.content and b"[PATCH 2/3]" not in raw.content
    for name, args in (
        ("thread-mbox", ["frob", "nope@example.org"]),
        ("thread-message-raw", ["frob", "nope@example.org"]),
        ("thread-mbox", [project.linkname, V1_COVER]),  # another project's message
        ("thread-mbox", ["nosuchproject", V1_COVER]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404


def test_project_page_shows_the_b4_config_the_tests_use(client, thread):
    body = client.get(reverse("project-detail", args=["frob"])).content.decode()
    block = re.search(r'<pre class="content b4-config">(.*?)</pre>', body, re.S).group(1)
    shown = dict(
        line.split(" ", 3)[2:] for line in block.splitlines() if line.startswith("git config")
    )
    expected = b4_config("http://testserver", "YOUR-API-TOKEN")
    assert shown == expected
    for key in ("b4.pw-review-state", "b4.pw-accept-state", "b4.pw-discard-state"):
        assert State.objects.filter(slug=expected[key]).exists()
    # b4's Link: trailers (linkmask) lead to the cover letter, patch or comment.
    link = expected["b4.linkmask"].replace("http://testserver", "")
    assert client.get(link % V1_COVER)["Location"] == reverse(
        "cover-detail", args=["frob", V1_COVER]
    )
    assert client.get(link % V1_PATCH_1)["Location"] == reverse(
        "patch-detail", args=["frob", V1_PATCH_1]
    )
    review = client.get(link % "review.1@example.org", follow=True)
    assert review.status_code == 200 and b"Rae Viewer" in review.content
    assert client.get(link % "nope@example.org").status_code == 404
