"""Headers as received: REST `headers` and the XML-RPC mbox show folding, trailing spaces,
encoded words and repeated headers exactly as the mail had them (compat/headers-*.eml)."""

from __future__ import annotations

import importlib
import xmlrpc.client

import pytest
from django.apps import apps as django_apps
from django.test import Client

from apps.mail.models import IncomingMail
from apps.patches.models import Cover, Patch, PatchComment
from tests.api.client import ApiClient
from tests.mails import deliver_all

pytestmark = pytest.mark.django_db

MAILS = ["compat/headers-patch.eml", "compat/headers-cover.eml", "compat/headers-comment.eml"]
RECEIVED = [
    "from mail.example.org (mail.example.org [192.0.2.1])\n"
    "\tby lists.example.org (Postfix) with ESMTP id 1A2B3C\n"
    "\tfor <frob@lists.example.org>; Fri, 8 Mar 2024 09:00:02 +0000",
    "from ada.example.org by mail.example.org;\n Fri, 8 Mar 2024 09:00:01 +0000",
]
PATCH_SUBJECT = "=?utf-8?q?=5BPATCH=5D_frob=3A_serve_caf=C3=A9?=\n =?utf-8?q?_au_lait?="


def test_rest_headers_are_verbatim(frob):
    deliver_all(MAILS)
    api = ApiClient("1.3")
    patch = api.get(f"patches/{Patch.objects.get().pk}/").data
    assert patch["headers"]["Received"] == RECEIVED  # repeated: a list, in order
    assert patch["headers"]["Subject"] == PATCH_SUBJECT  # encoded words as sent, folded
    assert patch["headers"]["From"] == "=?utf-8?q?Ada_Lovelace?= <ada@example.org>"
    assert patch["headers"]["To"] == "frob@lists.example.org,\n\tBob Builder <bob@example.org>"
    assert patch["headers"]["X-Mailer"] == "git-send-email 2.39.5  "  # trailing spaces
    assert patch["name"] == "frob: serve café au lait"

    cover = api.get(f"covers/{Cover.objects.get().pk}/").data
    assert cover["headers"]["Subject"] == (
        "[PATCH 0/1] A cover letter whose subject is long enough to be\n folded by the mailer"
    )
    assert cover["headers"]["Cc"] == (
        "Bob Builder <bob@example.org>, \n Carol Checker <carol@example.org>"
    )
    # 8-bit bytes: valid UTF-8 is text, the byte that is text in no charset is replaced.
    assert cover["headers"]["X-Note"] == "déjà vu, caf\ufffd"

    comment_id = PatchComment.objects.get().pk
    patch_id = Patch.objects.get().pk
    comment = api.get(f"patches/{patch_id}/comments/{comment_id}/").data
    assert comment["headers"]["Subject"] == (
        "Re: =?utf-8?q?=5BPATCH=5D_frob=3A_serve_caf=C3=A9?=\n\t=?utf-8?q?_au_lait?="
    )
    # The comment's subject is shown decoded, on one line.
    assert comment["subject"] == "Re: [PATCH] frob: serve café au lait"


def test_xmlrpc_mbox_keeps_the_original_header_lines(frob, client, settings):
    settings.ENABLE_XMLRPC = True
    deliver_all(MAILS[:1])
    call = xmlrpc.client.dumps((Patch.objects.get().pk,), "patch_get_mbox")
    mbox = xmlrpc.client.loads(client.post("/xmlrpc/", call, content_type="text/xml").content)
    text = mbox[0][0]
    assert f"Subject: {PATCH_SUBJECT}\n" in text
    assert "To: frob@lists.example.org,\n\tBob Builder <bob@example.org>\n" in text
    assert f"Received: {RECEIVED[0]}\nReceived: {RECEIVED[1]}\n" in text
    # git am reads it back as the same patch.
    assert "+/* coffee */" in text


def test_the_page_shows_the_header_block_as_received(frob):
    deliver_all(MAILS[:1])
    patch = Patch.objects.get()
    page = Client().get(f"/project/frob/patch/{patch.url_msgid}/").content.decode()
    assert "To: frob@lists.example.org,\n\tBob Builder &lt;bob@example.org&gt;" in page


def test_the_migration_restores_verbatim_headers_from_the_kept_mail(frob):
    deliver_all(MAILS)
    # As an older ingestion stored them: one unfolded line per header.
    Patch.objects.update(headers="Subject: [PATCH] frob: serve café au lait")
    Cover.objects.update(headers="Subject: x")
    PatchComment.objects.update(headers="Subject: y")
    unknown = Patch.objects.create(
        **{
            f.name: getattr(Patch.objects.get(), f.name)
            for f in Patch._meta.concrete_fields
            if f.name not in ("id", "msgid")
        },
        msgid="<not-kept@example.org>",
    )
    migration = importlib.import_module("apps.mail.migrations.0005_verbatim_headers")
    migration.backfill(django_apps, None)
    assert Patch.objects.get(msgid="<headers-patch.1@example.org>").headers.startswith(
        "Received: from mail.example.org (mail.example.org [192.0.2.1])\n\tby lists"
    )
    assert "\n folded by the mailer" in Cover.objects.get().headers
    assert "\n\t=?utf-8?q?_au_lait?=" in PatchComment.objects.get().headers
    # No kept mail for it: left as it was.
    unknown.refresh_from_db()
    assert unknown.headers == "Subject: [PATCH] frob: serve café au lait"
    assert IncomingMail.objects.count() == 3
