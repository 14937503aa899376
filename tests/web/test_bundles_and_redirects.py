"""Bundle mboxes (visibility, token auth, order, streaming) and the legacy download URLs."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import api_token_regenerate
from apps.patches import links
from apps.patches.mbox import BATCH_SIZE, bundle_mbox_chunks
from tests.factories import make_bundle, make_cover, make_patch, make_patch_comment, make_project

pytestmark = pytest.mark.django_db


def content(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode()


@pytest.fixture
def demo(maintainer):
    project = make_project("demo", maintainers=[maintainer])
    patches = [
        make_patch(project, name=f"change {i}", msgid=f"<c{i}@example.org>") for i in range(3)
    ]
    return project, patches


def test_public_bundle_mbox_in_bundle_order(client, demo, maintainer):
    _, patches = demo
    bundle = make_bundle(maintainer, [patches[2], patches[0]], name="my picks", public=True)
    response = client.get(links.bundle_mbox_path("maintainer", "my picks"))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f"attachment; filename=bundle-{bundle.id}-my-picks.mbox"
    )
    text = content(response)
    assert text.index("Message-Id: <c2@example.org>") < text.index("Message-Id: <c0@example.org>")
    assert "<c1@example.org>" not in text


def test_private_bundle_mbox_only_for_its_owner(client, demo, maintainer, stranger):
    _, patches = demo
    make_bundle(maintainer, patches, name="secret", public=False)
    url = links.bundle_mbox_path("maintainer", "secret")
    assert client.get(url).status_code == 404
    key = api_token_regenerate(user=maintainer)
    # git-pw downloads private bundles with its API token.
    response = client.get(url, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200 and content(response).count("From patchwork ") == 3
    basic = base64.b64encode(b"maintainer:password").decode()
    assert client.get(url, HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.force_login(maintainer)
    assert client.get(url).status_code == 200
    # Refused credentials count as none: 404, as for a bundle that does not exist.
    assert client.get(url, HTTP_AUTHORIZATION="Token wrong").status_code == 404


def test_big_bundles_stream_in_batches_with_constant_queries(client, demo, maintainer):
    project, _ = demo
    patches = [make_patch(project, name=f"bulk {i}") for i in range(BATCH_SIZE + 5)]
    for patch in patches[:3]:
        make_patch_comment(patch, content="Acked-by: A <a@example.org>")
    bundle = make_bundle(maintainer, patches, name="bulk", public=True)
    chunks = bundle_mbox_chunks(bundle)
    with CaptureQueriesContext(connection) as first:
        next(chunks)
    with CaptureQueriesContext(connection) as second:
        rest = list(chunks)
    assert len(rest) == 1
    # Each batch: its patches and the trailers given to them, whatever the batch size.
    assert len(first.captured_queries) == len(second.captured_queries) <= 3
    response = client.get(links.bundle_mbox_path("maintainer", "bulk"))
    assert response.streaming
    text = content(response)
    assert text.count("From patchwork ") == BATCH_SIZE + 5
    assert "\n\nFrom patchwork " in text  # the blank line between batches too
    assert text.count("Acked-by: A <a@example.org>") == 3


def test_unknown_bundles_are_404(client, maintainer):
    assert client.get(links.bundle_mbox_path("maintainer", "nope")).status_code == 404
    assert client.get(links.bundle_mbox_path("nobody", "nope")).status_code == 404


def test_legacy_urls_redirect(client, demo, settings):
    project, patches = demo
    cover = make_cover(project, msgid="<cover@example.org>")
    patch = patches[0]
    expected = {
        f"/patch/{patch.id}/mbox/": links.patch_mbox_path("demo", patch.msgid),
        f"/patch/{patch.id}/raw/": links.patch_raw_path("demo", patch.msgid),
        f"/cover/{cover.id}/mbox/": links.cover_mbox_path("demo", cover.msgid),
        f"/patch/{patch.id}/mbox/?series=*": links.patch_mbox_path("demo", patch.msgid)
        + "?series=*",
    }
    for old, new in expected.items():
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == new
        assert client.get(new).status_code == 200
    assert client.get("/patch/999999/mbox/").status_code == 404
    settings.COMPAT_REDIR = False
    assert client.get(f"/patch/{patch.id}/mbox/").status_code == 404
