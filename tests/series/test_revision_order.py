"""Revision links and superseding do not depend on the order mail arrives in.

The whole mail corpus of the concurrency test (v1 and v2 threaded to it, a v3 cover
letter with unversioned patches and a v4 of one sent in reply, deep and
unthreaded series with a first patch of the same name, Mercurial, pull requests,
replies and the demo archive with its own v2) is ingested in order, then in
shuffled orders one mail at a time, with auto-supersede on: the same series, links,
states and events every time, once the grace period of the matches by name is over.
"""

from __future__ import annotations

import random

import pytest

from apps.mail.intake import mail_store
from apps.mail.services import mail_ingest
from apps.projects.models import Project
from apps.series.revisions import revisions_supersede_due
from tests.mail.snapshot import reset_ingested, snapshot, snapshot_diff
from tests.mail.test_concurrency import corpus

pytestmark = pytest.mark.django_db

# Orders that once linked a v2 to a same-named series sent after it, or left a v1 patch
# un-superseded when the v2's cover letter came last, among others.
SEEDS = [0, 1, 2, 3, 13, 20, 41, 77]


@pytest.mark.parametrize("seed", SEEDS)
def test_shuffled_arrival_gives_the_in_order_revisions(frob, seed):
    Project.objects.create(
        linkname="patchwork",
        name="Patchwork",
        listid="patchwork.lists.example.org",
        listemail="patchwork@lists.example.org",
    )
    assert Project.objects.filter(auto_supersede=False).count() == 0
    mails = corpus()
    for raw in mails:
        mail_ingest(mail_store(raw))
    revisions_supersede_due()
    expected = snapshot()
    assert any(s["previous_revision"] for s in expected["series"].values())
    assert any(p["state"] == "superseded" for p in expected["patches"].values())
    reset_ingested()
    order = mails[:]
    random.Random(seed).shuffle(order)
    for raw in order:
        mail_ingest(mail_store(raw))
    revisions_supersede_due()
    got = snapshot()
    assert got == expected, "\n".join(snapshot_diff(got, expected))
