"""Patch, cover letter and comment pages link each message in the list archive (lore) when the
project has list_archive_url_format, as Patchwork does; nothing without one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_cover, make_cover_comment, make_patch, make_patch_comment

pytestmark = pytest.mark.django_db

LORE = "https://lore.kernel.org/frob/{}"


def archive_link(msgid: str) -> str:
    return f'href="{LORE.format(msgid.strip("<>"))}"'


@pytest.fixture
def thread(project):
    patch = make_patch(project, msgid="<p1/with-slash@example.org>")
    comment = make_patch_comment(patch, msgid="<c1@example.org>")
    cover = make_cover(project, msgid="<cover@example.org>")
    cover_comment = make_cover_comment(cover, msgid="<cc1@example.org>")
    return patch, comment, cover, cover_comment


def pages(client, patch, cover) -> tuple[str, str]:
    patch_page = reverse("patch-detail", args=[patch.project.linkname, patch.url_msgid])
    cover_page = reverse("cover-detail", args=[cover.project.linkname, cover.url_msgid])
    return client.get(patch_page).content.decode(), client.get(cover_page).content.decode()


def test_every_message_links_the_archive(client, project, thread):
    patch, comment, cover, cover_comment = thread
    project.list_archive_url_format = LORE
    project.save()
    patch_page, cover_page = pages(client, patch, cover)
    assert archive_link(patch.msgid) in patch_page
    assert archive_link(comment.msgid) in patch_page
    assert archive_link(cover.msgid) in cover_page
    assert archive_link(cover_comment.msgid) in cover_page


def test_no_archive_no_links(client, project, thread):
    patch, _, cover, _ = thread
    patch_page, cover_page = pages(client, patch, cover)
    assert "in the list archive" not in patch_page + cover_page
