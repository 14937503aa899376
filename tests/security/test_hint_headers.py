"""X-Patchwork-State/-Delegate: followed only from trusted senders, and only to a maintainer.

The probe's finding: anyone mailing the list set a patch's state and delegate,
and the delegate header could name a user REST refuses as a delegate (not a
maintainer), who could then edit the patch.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.patches.models import Patch
from apps.patches.services import patch_check_can_edit
from apps.projects.models import Project
from tests.factories import make_project, make_user
from tests.mails import deliver, git_mails

pytestmark = pytest.mark.django_db

STRANGER_FROM = b"From: Ada Lovelace <ada@example.org>"


@pytest.fixture
def frob(maintainer):
    """The project of the test mails' list (as in tests/mail)."""
    return make_project(
        "frob",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )


def hinted_mail(*headers: str, sender: str = "") -> bytes:
    """The v1 1/3 patch with hint headers, from Ada (a stranger) or another sender."""
    raw = git_mails("v1")[1].read_bytes()
    assert STRANGER_FROM in raw
    if sender:
        raw = raw.replace(STRANGER_FROM, f"From: {sender}".encode(), 1)
    extra = "".join(f"{line}\n" for line in headers).encode()
    return raw.replace(b"\nSubject:", b"\n" + extra.rstrip(b"\n") + b"\nSubject:", 1)


def test_delegate_header_naming_a_non_maintainer_is_ignored(frob):
    accomplice = make_user("accomplice")
    deliver(hinted_mail(f"X-Patchwork-Delegate: {accomplice.email}"))
    patch = Patch.objects.get()
    assert patch.delegate is None
    assert not patch_check_can_edit(accomplice, patch)
    # REST refuses the same delegate, for the same reason.
    client = Client()
    client.force_login(frob.maintainers.get())
    response = client.patch(
        f"/api/1.4/patches/{patch.pk}/",
        {"delegate": accomplice.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "delegate" in response.json()


def test_by_default_anyones_hints_are_followed_as_in_patchwork(frob, maintainer):
    assert frob.hint_headers_from == Project.HINTS_FROM_ANYONE
    deliver(hinted_mail("X-Patchwork-State: RFC", f"X-Patchwork-Delegate: {maintainer.email}"))
    patch = Patch.objects.get()
    assert (patch.state.slug, patch.delegate) == ("rfc", maintainer)


def test_maintainers_only_ignores_a_strangers_hints(frob, maintainer):
    frob.hint_headers_from = Project.HINTS_FROM_MAINTAINERS
    frob.save(update_fields=["hint_headers_from"])
    deliver(hinted_mail("X-Patchwork-State: Accepted", f"X-Patchwork-Delegate: {maintainer.email}"))
    patch = Patch.objects.get()
    assert (patch.state.slug, patch.delegate) == ("new", None)


def test_maintainers_only_follows_a_maintainers_hints(frob, maintainer):
    frob.hint_headers_from = Project.HINTS_FROM_MAINTAINERS
    frob.save(update_fields=["hint_headers_from"])
    deliver(
        hinted_mail(
            "X-Patchwork-State: RFC",
            f"X-Patchwork-Delegate: {maintainer.email}",
            sender=f"Mae Intainer <{maintainer.email}>",
        )
    )
    patch = Patch.objects.get()
    assert (patch.state.slug, patch.delegate) == ("rfc", maintainer)


def test_nobody_ignores_even_a_maintainers_hints(frob, maintainer):
    frob.hint_headers_from = Project.HINTS_FROM_NOBODY
    frob.save(update_fields=["hint_headers_from"])
    deliver(hinted_mail("X-Patchwork-State: RFC", sender=maintainer.email))
    assert Patch.objects.get().state.slug == "new"


def test_the_setting_is_in_the_project_admin(frob, admin_client):
    page = admin_client.get(f"/admin/projects/project/{frob.pk}/change/")
    assert page.status_code == 200
    assert b'name="hint_headers_from"' in page.content
