"""X-Patchwork-Hint/-State/-Delegate headers and autodelegation rules."""

from __future__ import annotations

import pytest

from apps.events.models import Event
from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from apps.projects.models import DelegationRule
from tests.factories import make_person, make_user
from tests.mails import deliver, git_mails

pytestmark = pytest.mark.django_db


def with_headers(*lines: str) -> bytes:
    """The v1 1/3 patch with extra headers, as `git send-email --add-header` sends it."""
    raw = git_mails("v1")[1].read_bytes()
    extra = "".join(f"{line}\n" for line in lines).encode()
    return raw.replace(b"\nSubject:", b"\n" + extra.rstrip(b"\n") + b"\nSubject:", 1)


@pytest.mark.parametrize("value", ["ignore", "IGNORE", " ignore "])
def test_hint_ignore(frob, value):
    mail = deliver(with_headers(f"X-Patchwork-Hint: {value}"))
    assert (mail.status, mail.reason) == ("ignored", "X-Patchwork-Hint: ignore")
    assert not Patch.objects.exists() and not Event.objects.exists()


def test_other_hints_are_ignored(frob):
    assert deliver(with_headers("X-Patchwork-Hint: maybe")).status == IncomingMail.PARSED


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ("RFC", "rfc"),
        ("awaiting upstream", "awaiting-upstream"),
        ("changes-requested", "changes-requested"),
        ("Bogus", "new"),
    ],
)
def test_state_hint(frob, value, slug):
    deliver(with_headers(f"X-Patchwork-State: {value}"))
    assert Patch.objects.get().state.slug == slug


def test_delegate_hint_names_a_user(frob, maintainer):
    deliver(with_headers(f"X-Patchwork-Delegate: {maintainer.email.upper()}"))
    assert Patch.objects.get().delegate == maintainer


def test_delegate_hint_by_a_linked_address(frob, maintainer):
    make_person("mae@work.example.com", user=maintainer)
    deliver(with_headers("X-Patchwork-Delegate: mae@work.example.com"))
    assert Patch.objects.get().delegate == maintainer


def test_invalid_delegate_hint_is_ignored(frob):
    deliver(with_headers("X-Patchwork-Delegate: nobody@example.org"))
    assert Patch.objects.get().delegate is None


def test_autodelegation_highest_priority_first(frob, maintainer):
    docs = make_user("docs-maintainer")
    DelegationRule.objects.create(project=frob, user=docs, path="docs/*", priority=5)
    DelegationRule.objects.create(project=frob, user=maintainer, path="*/frob.c", priority=1)
    DelegationRule.objects.create(project=frob, user=docs, path="src/*", priority=0)
    v1 = git_mails("v1")
    deliver(v1[1])  # src/frob.c
    deliver(v1[2])  # docs/... and src/frob.c: docs/* has the higher priority
    deliver(v1[3])  # docs only
    delegates = dict(Patch.objects.values_list("number", "delegate__username"))
    assert delegates == {1: "maintainer", 2: "docs-maintainer", 3: "docs-maintainer"}


def test_delegate_hint_wins_over_rules(frob, maintainer):
    DelegationRule.objects.create(project=frob, user=make_user("other"), path="src/*")
    deliver(with_headers(f"X-Patchwork-Delegate: {maintainer.email}"))
    assert Patch.objects.get().delegate == maintainer


def test_rules_of_other_projects_do_not_apply(frob, maintainer):
    from tests.factories import make_project

    DelegationRule.objects.create(project=make_project("other"), user=maintainer, path="*")
    deliver(git_mails("v1")[1])
    assert Patch.objects.get().delegate is None
