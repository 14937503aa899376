"""What a maintainer and a CI system did with the demo mail: states, checks, a bundle.

None of this arrives by mail, so loaddemo applies it after ingesting the archive,
through the same domain functions the web UI and the REST API use (events included).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.checks.services import check_create
from apps.patches.models import Bundle, Patch
from apps.patches.services import bundle_create, patch_update
from apps.projects.models import Project, State
from apps.projects.services import person_link

MAINTAINER = ("dave", "Dave", "Maintainer", "dave@example.org")
CI_BOT = ("ci-bot", "Demo", "CI", "ci@example.org")
BUNDLE = "for-1.0"
V2 = "[PATCH v2"


def _user(username: str, first: str, last: str, email: str):
    """A demo account without a password (nobody logs in as it; create your own)."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": email}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _patch(project: Project, name_part: str, *, v2: bool = False) -> Patch:
    patches = project.patches.filter(name__contains=name_part)
    patches = patches.filter(series__version=2) if v2 else patches.exclude(series__version=2)
    return patches.get()


@transaction.atomic
def demo_triage(project: Project) -> bool:
    """Apply the demo's triage once (False when it was applied before)."""
    dave = _user(*MAINTAINER)
    if Bundle.objects.filter(owner=dave, name=BUNDLE).exists():
        return False
    project.maintainers.add(dave)
    person_link(user=dave, email=MAINTAINER[3])
    bot = _user(*CI_BOT)
    project.maintainers.add(bot)

    v2 = list(project.patches.filter(series__version=2).order_by("number"))
    for patch in v2:
        patch_update(patch=patch, actor=dave, delegate=dave)
        check_create(
            patch=patch,
            user=bot,
            state="success",
            context="unit-tests",
            target_url="https://ci.example.org/mboxstat/builds/1042",
            description="12 tests passed",
        )
    check_create(
        patch=v2[0],
        user=bot,
        state="warning",
        context="lint",
        target_url="https://ci.example.org/mboxstat/builds/1042/lint",
        description="1 line longer than 79 characters",
    )
    completion = _patch(project, "bash completion")
    check_create(patch=completion, user=bot, state="success", context="unit-tests")
    patch_update(
        patch=completion,
        actor=dave,
        state=State.objects.get(slug="accepted"),
        commit_ref="5d2c1e0a9b8f7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    )
    ci = _patch(project, "ci: run the tests")
    check_create(
        patch=ci,
        user=bot,
        state="fail",
        context="unit-tests",
        description="tests/test_mboxstat.py: ModuleNotFoundError: mboxstat",
    )
    patch_update(patch=ci, actor=dave, state=State.objects.get(slug="changes-requested"))
    bundle_create(owner=dave, name=BUNDLE, patches=[*v2, completion], public=True)
    return True
