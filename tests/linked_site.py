"""A small, complete site to walk the links of: every kind of object, made as production makes it.

Mail is ingested from tests/data/mail (two revisions of a series with cover
letters, replies to patches and covers, a pull request, a lone patch) plus a
patch whose Message-ID needs quoting in URLs; triage, checks, relations,
dependencies, bundles and a webhook are added through the domain services, so
the event log holds every category. ``linked_site()`` builds it once for a test
module inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.test import override_settings

import apps.mail.context
from apps.accounts.models import User
from apps.accounts.services import api_token_regenerate
from apps.checks.services import check_create
from apps.events.models import Event
from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from apps.patches.models import Bundle, Cover, Patch
from apps.patches.services import bundle_create, patch_update
from apps.projects.models import Project, State
from apps.series.models import Series
from apps.webhooks.models import Delivery, Webhook
from apps.webhooks.services import webhook_ping
from tests.factories import make_bundle, make_patch, make_person, make_project, make_user

MAIL = Path(__file__).resolve().parent / "data" / "mail"
SITE_URL = "http://testserver"  # what Django's test client calls the site

MAILS = [
    "git/v1/0000-cover-letter.eml",
    "git/v1/0001-frob-fix-the-frobnicator-for-negative-input.eml",
    "git/v1/0002-docs-rename-old.txt-drop-gone.txt-make-frob.c-execut.eml",
    "git/v1/0003-docs-add-a-logo-an-empty-file-and-a-file-without-new.eml",
    "replies/acked.eml",
    "replies/reviewed.eml",
    "replies/reply-to-acked.eml",
    "replies/cover-tested.eml",
    "git/v2/0000-cover-letter.eml",
    "git/v2/0001-frob-fix-the-frobnicator-for-negative-input.eml",
    "git/v2/0002-docs-rename-old.txt.eml",
    "git/single/0001-docs-add-a-logo-an-empty-file-and-a-file-without-new.eml",
    "git/pull.eml",
]

# A Message-ID with '/', '+', '=' and '%': every link to it must quote it the same way.
ODD_MSGID = "<20240305.odd/id+tag=1%2@example.org>"
ODD_MAIL = f"""\
From: Dana Quote <dana@example.org>
To: frob@lists.example.org
Subject: [PATCH] frob: quote the frobnicator's output
Date: Tue, 5 Mar 2024 09:00:00 +0000
Message-Id: {ODD_MSGID}
List-Id: Frobnicator development <frob.lists.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Quote it.

Signed-off-by: Dana Quote <dana@example.org>
---
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 # Frobnicator
\x20
-It frobs.
+It frobs, "quoted".
""".encode()


@dataclass
class LinkedSite:
    project: Project
    other_project: Project
    maintainer: User  # maintains frob, owns the bundles and the webhook
    stranger: User
    token: str  # the maintainer's API token
    public_bundle: Bundle
    private_bundle: Bundle
    strangers_bundle: Bundle  # private to the stranger: linked from nowhere the walk goes
    webhook: Webhook
    extras: dict = field(default_factory=dict)


def _deliver(raw: bytes) -> None:
    mail = mail_ingest(mail_store(raw))
    assert mail.status == IncomingMail.PARSED, (mail.status, mail.reason)


def _triage(site_project: Project, maintainer: User) -> None:
    patches = list(Patch.objects.filter(project=site_project).order_by("id"))
    first, second = patches[0], patches[1]
    patch_update(
        patch=first,
        actor=maintainer,
        state=State.objects.get(slug="under-review"),
        delegate=maintainer,  # so the maintainer has a to-do list
        related=[second],
    )
    check_create(patch=first, user=maintainer, state="success", context="build")
    check_create(
        patch=first,
        user=maintainer,
        state="fail",
        context="test",
        target_url="https://ci.example.org/runs/1",
        description="2 tests failed",
    )
    check_create(patch=second, user=maintainer, state="pending", context="build")


def _depend(project: Project) -> None:
    """The last series with a cover letter depends on a series without one."""
    in_project = Series.objects.filter(project=project).order_by("id")
    with_cover = in_project.filter(cover__isnull=False).last()
    assert with_cover is not None
    with_cover.dependencies.add(in_project.filter(cover__isnull=True).first())


def build_linked_site() -> LinkedSite:
    apps.mail.context._worker_context = None  # no cached rows from an earlier test
    maintainer = make_user("linkwalker", first_name="Lin", last_name="Walker")
    delegate = make_user("linkdelegate", first_name="Del", last_name="Egate")
    stranger = make_user("linkstranger")
    project = make_project(
        "frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer, delegate],
    )
    project.list_archive_url_format = "https://lore.example.org/frob/{}/"
    project.save(update_fields=["list_archive_url_format"])
    other_project = make_project("other", name="Other")
    make_patch(other_project, submitter=make_person("olive@example.org", name="Olive Other"))
    # Subscribed before the mail arrives, so every event has a delivery.
    webhook = Webhook.objects.create(owner=maintainer, url="https://hooks.example.org/pw")
    webhook_ping(webhook=webhook)
    for name in MAILS:
        _deliver((MAIL / name).read_bytes())
    _deliver(ODD_MAIL)
    _triage(project, maintainer)
    _depend(project)
    patches = list(Patch.objects.filter(project=project).order_by("id"))
    public = bundle_create(owner=maintainer, name="for-review", patches=patches[:3], public=True)
    private = bundle_create(owner=maintainer, name="mine only", patches=patches[2:4])
    strangers = make_bundle(stranger, patches[:1], name="strangers", public=False)
    site = LinkedSite(
        project=project,
        other_project=other_project,
        maintainer=maintainer,
        stranger=stranger,
        token=api_token_regenerate(user=maintainer),
        public_bundle=public,
        private_bundle=private,
        strangers_bundle=strangers,
        webhook=webhook,
    )
    _check_complete(site)
    return site


def _check_complete(site: LinkedSite) -> None:
    """The walk proves little unless every kind of object and event is there."""
    categories = set(Event.objects.values_list("category", flat=True))
    assert categories == {c for c, _ in Event.CATEGORIES}, categories
    assert Cover.objects.filter(comments__isnull=False).exists()
    assert Patch.objects.filter(comments__isnull=False, checks__isnull=False).exists()
    assert Series.objects.filter(cover__isnull=False, dependencies__isnull=False).exists()
    assert Series.objects.filter(previous_revision__isnull=False).exists()
    assert Delivery.objects.filter(webhook=site.webhook, event__isnull=False).exists()


@contextmanager
def linked_site(django_db_blocker):
    """The site, for the length of a test module; everything it made is rolled back after."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(SITE_URL=SITE_URL, PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        yield build_linked_site()
        transaction.set_rollback(True)
