"""A small world for the security tests: one patch, its people, and every persona around it.

Personas: anonymous, user (an account with no role), submitter (whose mail the
patch is), delegate (the patch's delegate, not a maintainer), other_maintainer
(maintains another project), maintainer, superuser.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.accounts.models import User
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Project
from apps.webhooks.models import Webhook
from tests.factories import (
    make_bundle,
    make_cover,
    make_cover_comment,
    make_patch,
    make_patch_comment,
    make_person,
    make_project,
    make_user,
)

PERSONAS = (
    "anonymous",
    "user",
    "submitter",
    "delegate",
    "other_maintainer",
    "maintainer",
    "superuser",
)


@dataclass
class World:
    project: Project
    other_project: Project
    patch: Patch
    cover: Cover
    patch_comment: PatchComment
    cover_comment: CoverComment
    bundle: Bundle  # private, the submitter's
    webhook: Webhook  # the submitter's
    users: dict[str, User | None]


@pytest.fixture
def world(db) -> World:
    maintainer = make_user("maintainer")
    other_maintainer = make_user("othermaint")
    submitter = make_user("submitter")
    users = {
        "anonymous": None,
        "user": make_user("someuser"),
        "submitter": submitter,
        "delegate": make_user("delegate"),
        "other_maintainer": other_maintainer,
        "maintainer": maintainer,
        "superuser": make_user("admin", is_superuser=True, is_staff=True),
    }
    project = make_project("sec", maintainers=[maintainer])
    other_project = make_project("elsewhere", maintainers=[other_maintainer])
    person = make_person(submitter.email, name="Sub Mitter", user=submitter)
    patch = make_patch(project, submitter=person, delegate=users["delegate"])
    cover = make_cover(project, submitter=person)
    # Replies by somebody else entirely: only the maintainer and the submission's
    # submitter (besides the commenter) may mark them addressed.
    patch_comment = make_patch_comment(patch)
    cover_comment = make_cover_comment(cover)
    bundle = make_bundle(submitter, [patch], name="private-one", public=False)
    webhook = Webhook.objects.create(owner=submitter, url="https://hooks.example.org/x")
    return World(
        project=project,
        other_project=other_project,
        patch=patch,
        cover=cover,
        patch_comment=patch_comment,
        cover_comment=cover_comment,
        bundle=bundle,
        webhook=webhook,
        users=users,
    )
