"""The demo data shows the product off: messages, reviews with trailers, a v1 -> v2
revision, checks and a bundle (issue 18), without a server to look at it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.checks.models import Check
from apps.patches.models import Bundle, Patch, PatchComment, PatchTag
from apps.series.models import Series

pytestmark = pytest.mark.django_db


def test_loaddemo_loads_what_a_newcomer_should_see():
    call_command("loaddemo", stdout=StringIO())
    v2 = Series.objects.get(project__linkname="patchwork", version=2)
    assert v2.previous_revision is not None and v2.previous_revision.version == 1
    patches = list(v2.patches.order_by("number"))
    assert len(patches) == v2.total == 3
    for patch in patches:
        # A real commit message above the diff: git am keeps what is before "---".
        message = patch.content.split("\n---")[0]
        assert len(message.splitlines()) >= 3 and "Signed-off-by:" in message, patch.name
    reviews = PatchComment.objects.filter(patch__in=Patch.objects.filter(project=v2.project))
    assert any("Reviewed-by:" in c.content for c in reviews)
    assert PatchTag.objects.filter(patch__in=patches, count__gt=0).exists()
    states = set(Check.objects.filter(patch__project=v2.project).values_list("state", flat=True))
    assert {"success", "fail"} <= states
    bundle = Bundle.objects.get(owner__username="dave", name="for-1.0")
    assert bundle.public and set(patches) <= set(bundle.patches.all())
