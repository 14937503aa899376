"""X-Patchwork-Action-Required: a reply carrying it is an unaddressed comment, as in Patchwork."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.patches import links
from apps.patches.models import CoverComment, Patch, PatchComment
from tests.api.client import ApiClient
from tests.mails import deliver, deliver_all, git_mails

pytestmark = pytest.mark.django_db


def test_the_header_makes_patch_and_cover_comments_unaddressed(frob):
    deliver_all(git_mails("v1"))
    deliver("compat/action-required.eml")
    deliver("compat/action-required-cover.eml")  # an empty value counts too
    deliver("replies/acked.eml")
    assert PatchComment.objects.get(msgid="<needs-work@example.org>").addressed is False
    assert CoverComment.objects.get(msgid="<cover-needs-work@example.org>").addressed is False
    assert PatchComment.objects.get(msgid="<acked@example.org>").addressed is None


def test_rest_and_the_patch_page_show_it(frob):
    deliver_all(git_mails("v1"))
    deliver("compat/action-required.eml")
    deliver("replies/acked.eml")
    patch = Patch.objects.get(number=1)
    comments = ApiClient("1.3").get(f"patches/{patch.pk}/comments/").data
    assert {c["msgid"]: c["addressed"] for c in comments} == {
        "<needs-work@example.org>": False,
        "<acked@example.org>": None,
    }
    # Before 1.3 the field does not exist.
    assert all(
        "addressed" not in c for c in ApiClient("1.2").get(f"patches/{patch.pk}/comments/").data
    )
    page = Client().get(links.patch_path("frob", patch.msgid)).content.decode()
    assert page.count("is-unaddressed") == 1
