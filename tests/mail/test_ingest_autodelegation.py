"""Autodelegation rules applied as Patchwork applies them."""

from __future__ import annotations

import pytest

from apps.patches.models import Patch
from apps.projects.models import DelegationRule
from tests.factories import make_user
from tests.mails import deliver

pytestmark = pytest.mark.django_db


# Autodelegation as Patchwork: per file, the first rule (priority, then path) names a
# delegate; the patch is delegated only when every file has one and it is one user.
# compat/two-files.eml touches docs/frob.txt and src/frob.c.
@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([("src/*", "alice", 0), ("docs/*", "alice", 0)], "alice"),
        # docs/frob.txt has no rule: nobody, though src/frob.c's rule matches.
        ([("src/*", "alice", 0)], None),
        ([("src/*", "alice", 5), ("docs/*", "bob", 0)], None),
        # src/frob.c: "src/*" (priority 9) comes before "*.c"; docs/frob.txt: "*" only.
        ([("src/*", "bob", 9), ("*.c", "alice", 0), ("*", "bob", 0)], "bob"),
        ([("*.c", "alice", 9), ("src/*", "bob", 0), ("*", "bob", 0)], None),
        # Same priority: the path decides ("*" sorts before "src/*").
        ([("src/*", "alice", 1), ("*", "bob", 1)], "bob"),
    ],
)
def test_autodelegation_needs_one_delegate_for_every_file(frob, rules, expected):
    users = {name: make_user(name) for name in ("alice", "bob")}
    for path, name, priority in rules:
        DelegationRule.objects.create(project=frob, user=users[name], path=path, priority=priority)
    deliver("compat/two-files.eml")
    delegate = Patch.objects.get().delegate
    assert (delegate.username if delegate else None) == expected
