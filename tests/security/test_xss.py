"""XSS probes in every mail field, ingested by the real parser, rendered on every page and fragment.

Each field carries a payload with its own marker. A page passes when the
marker is there (the field was rendered) and no payload appears unescaped.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.live import catchup, pages, render
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from apps.patches.models import Bundle, BundlePatch, Cover, Patch
from apps.projects.models import Project
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LIST_ID = "xss.lists.example.org"


def script(marker: str) -> str:
    return f'<script>alert("{marker}")</script>'


def img(marker: str) -> str:
    return f"<img src=x onerror=alert('{marker}')>"


# What must never reach a page unescaped (any element or event handler from a payload).
DANGEROUS = re.compile(r"<script>alert|<img src=x onerror|<svg onload", re.IGNORECASE)

COVER = f"""\
Message-Id: <xss-cover@example.org>
From: "{img("xss-cover-name")}" <cover@example.org>
To: xss@lists.example.org
List-Id: <{LIST_ID}>
Subject: [PATCH 0/1] {script("xss-cover-subject")}
Date: Mon, 1 Jan 2024 10:00:00 +0000

Cover text {script("xss-cover-body")}
"""

PATCH = f"""\
Message-Id: <xss-patch@example.org>
In-Reply-To: <xss-cover@example.org>
References: <xss-cover@example.org>
From: "{img("xss-name")}" <evil@example.org>
To: xss@lists.example.org
List-Id: <{LIST_ID}>
Subject: [PATCH 1/1] {script("xss-subject")}
X-Evil: {script("xss-header")}
Date: Mon, 1 Jan 2024 10:01:00 +0000

Commit message {script("xss-body")} and <svg onload=alert('xss-svg')>

Signed-off-by: {img("xss-trailer")} <evil@example.org>
---
diff --git a/frob<b>.c b/frob<b>.c
--- a/frob<b>.c
+++ b/frob<b>.c
@@ -1,2 +1,3 @@
 int x;
+{script("xss-diff")}
 int y;
"""

REPLY = f"""\
Message-Id: <xss-reply@example.org>
In-Reply-To: <xss-patch@example.org>
References: <xss-cover@example.org> <xss-patch@example.org>
From: "{script("xss-commenter")}" <reviewer@example.org>
To: xss@lists.example.org
List-Id: <{LIST_ID}>
Subject: Re: [PATCH 1/1] {script("xss-reply-subject")}
Date: Mon, 1 Jan 2024 11:00:00 +0000

Reviewed-by: {script("xss-review")} <reviewer@example.org>

{script("xss-comment")}
"""

MARKERS_ON_PATCH_PAGE = [
    "xss-subject",
    "xss-name",
    "xss-header",
    "xss-body",
    "xss-trailer",
    "xss-diff",
    "xss-commenter",
    "xss-comment",
]


@pytest.fixture
def hostile(db):
    maintainer = make_user("maintainer")
    project = Project.objects.create(
        linkname="xss", name="XSS", listid=LIST_ID, listemail="xss@lists.example.org"
    )
    project.maintainers.add(maintainer)
    for raw in (COVER, PATCH, REPLY):
        mail = mail_ingest(mail_store(raw.encode()))
        assert mail.status == IncomingMail.PARSED, (mail.reason, raw[:80])
    patch = Patch.objects.get(msgid="<xss-patch@example.org>")
    patch.delegate = maintainer
    patch.save(update_fields=["delegate"])
    bundle = Bundle.objects.create(owner=maintainer, project=project, name="b", public=True)
    BundlePatch.objects.create(bundle=bundle, patch=patch, order=1)
    return {"project": project, "patch": patch, "maintainer": maintainer}


def assert_safe(html: str, where: str, markers: list[str]) -> None:
    found = DANGEROUS.search(html)
    assert found is None, (
        f"{where}: unescaped payload …{html[max(0, found.start() - 80) : found.end() + 80]}…"
    )
    missing = [m for m in markers if m not in html]
    assert not missing, f"{where}: fields not rendered at all: {missing}"


def pages_to_render(hostile) -> list[tuple[str, list[str]]]:
    patch = hostile["patch"]
    cover = Cover.objects.get()
    return [
        ("/", []),
        ("/project/xss/", []),
        ("/project/xss/list/", ["xss-subject", "xss-name"]),
        ("/project/xss/list/?q=" + script("xss-q"), ["xss-q"]),
        ("/project/xss/list/?submitter=" + script("xss-filter"), []),
        (f"/project/xss/patch/{patch.url_msgid}/", MARKERS_ON_PATCH_PAGE),
        (f"/project/xss/cover/{cover.url_msgid}/", ["xss-cover-subject", "xss-cover-body"]),
        (f"/series/{patch.series_id}/", ["xss-subject", "xss-cover-subject"]),
        ("/project/xss/series/", ["xss-cover-subject", "xss-cover-name"]),
        ("/bundle/maintainer/b/", ["xss-subject"]),
        ("/user/todo/xss/", ["xss-subject"]),
        ("/user/todo/", []),
        ("/project/" + script("xss-404") + "/list/", []),
        (
            f"/admin/mail/incomingmail/{IncomingMail.objects.get(msgid='<xss-patch@example.org>').pk}/change/",
            ["xss-subject"],
        ),
        (f"/admin/patches/patch/{patch.pk}/change/", ["xss-subject"]),
    ]


def test_no_payload_renders_unescaped_on_any_page(hostile, client):
    admin = make_user("root", is_superuser=True, is_staff=True)
    for viewer in (None, hostile["maintainer"], admin):
        client = Client()
        if viewer is not None:
            client.force_login(viewer)
        for path, markers in pages_to_render(hostile):
            if path.startswith("/admin/") and viewer is not admin:
                continue
            if path.startswith("/user/") and viewer is None:
                continue
            response = client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            if response.status_code == 404 or (
                path.startswith("/user/todo") and viewer is not hostile["maintainer"]
            ):
                markers = []  # nothing of the patch is meant to be there
            assert_safe(response.content.decode(), f"{path} as {viewer}", markers)


def test_text_downloads_are_never_served_as_html(hostile, client):
    patch = hostile["patch"]
    for path in (
        f"/project/xss/patch/{patch.url_msgid}/mbox/",
        f"/project/xss/patch/{patch.url_msgid}/raw/",
        f"/series/{patch.series_id}/mbox/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response["Content-Type"].startswith("text/html"), path
        assert response["X-Content-Type-Options"] == "nosniff"


def test_api_serves_payloads_as_json_data_only(hostile, client):
    response = client.get(f"/api/1.4/patches/{hostile['patch'].pk}/")
    assert response["Content-Type"] == "application/json"
    assert 'alert(\\"xss-subject\\")' in response.content.decode()


# The series list's rows show the series (named by its cover) and its submitter.
LIVE_MARKERS = {"serieslist": ["xss-cover-subject", "xss-cover-name"]}


@pytest.mark.parametrize("kind", ["list", "patch", "series", "serieslist"])
@pytest.mark.parametrize("as_maintainer", [False, True])
def test_no_payload_renders_unescaped_in_live_fragments(hostile, kind, as_maintainer):
    from django.contrib.auth.models import AnonymousUser

    patch = hostile["patch"]
    object_id = {
        "list": hostile["project"].pk,
        "patch": patch.pk,
        "series": patch.series_id,
        "serieslist": hostile["project"].pk,
    }[kind]
    user = hostile["maintainer"] if as_maintainer else AnonymousUser()
    page = pages.live_page_open(kind=kind, object_id=object_id, query_string="", user=user)
    viewer = render.Viewer(user=user, csrf_secret="a" * 32 if as_maintainer else "")
    refs = catchup.events_missed(page, 0).events
    ops = render.ops_for_batch(page, viewer, refs, refresh_patches=[patch.pk])
    html = "".join(op.get("html", "") for op in ops)
    assert_safe(html, f"live {kind}", LIVE_MARKERS.get(kind, ["xss-subject"]))
